import { join } from 'node:path';
import { packageRoot } from '../../config/roles.js';
import { command } from '../../shell/quote.js';
import type { GuestHandle } from '../qemu/guest.js';
import { guestNetwork, labNicMac } from '../qemu/qemu-args.js';
import { releaseUplinkScript, topologyScript, uplinkScript } from './guest-scripts.js';
import type { ClusterHost } from './state.js';
import { labNetnsName, type ClusterTopology } from './topology.js';

// The netns lab inside the guest, driven through the guest's own sshd: the same `cli.js` that
// builds labs on the machine, run by the guest's node from the shared root, then the topology's
// routes and the uplink with the jump sshd.

/** Inside the guest, on its tmpfs /run: nothing of the lab ever reaches the machine's disk. */
export const guestLabDir = '/run/lvsprov/lab';
const specPath = '/run/lvsprov/spec.json';
const netnsCli = join(packageRoot, 'dist', 'lab', 'netns', 'cli.js');

export interface GuestLab {
  readonly controlNamespace: string;
  readonly hosts: readonly ClusterHost[];
  /** The private key every lab host accepts (OpenSSH format). */
  readonly clientKey: string;
}

interface NetnsLabJson {
  readonly controlNamespace: string;
  readonly clientKeyPath: string;
  readonly hosts: ReadonlyArray<{ name: string; namespace: string; addresses: string[]; sshdPid: number; publicKey: string }>;
}

async function ok(guest: GuestHandle, what: Parameters<GuestHandle['run']>[0], step: string, timeoutMs: number, input?: string): Promise<string> {
  const result = await guest.run(what, { timeoutMs, ...(input !== undefined ? { input } : {}) });
  if (result.code !== 0) {
    const how = result.signal ? `was killed by ${result.signal} (timeout ${timeoutMs / 1000} s?)` : `exited ${result.code}`;
    throw new Error(`${step} ${how}: ${(result.stderr.trim() || result.stdout.trim()).slice(-2000)}`);
  }
  return result.stdout;
}

export interface BuildOptions {
  /** Seconds each host's sshd may take to answer; sshd starts slowly under emulation. */
  readonly readyTimeoutS: number;
  readonly log?: (line: string) => void;
}

const since = (started: number): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;

export async function buildGuestLab(guest: GuestHandle, topology: ClusterTopology, options: BuildOptions): Promise<GuestLab> {
  const log = options.log ?? (() => undefined);
  let started = Date.now();
  await ok(guest, ['sh', '-c', `mkdir -p /run/lvsprov && cat > ${specPath}`], 'uploading the lab spec', 60_000, JSON.stringify(topology.spec));
  const up = await ok(
    guest,
    [process.execPath, netnsCli, 'up', specPath, guestLabDir, '--ready-timeout', String(options.readyTimeoutS)],
    'building the lab inside the guest',
    (options.readyTimeoutS + 300) * 1000,
  );
  const lab = JSON.parse(up) as NetnsLabJson;
  log(`hosts and their sshds up in ${since(started)}`);
  started = Date.now();
  const namespaceOf = (host: string): string => {
    const found = lab.hosts.find((candidate) => candidate.name === host);
    if (!found) throw new Error(`the lab has no host ${host}`);
    return found.namespace;
  };
  const uplink = uplinkScript({
    controlNamespace: lab.controlNamespace,
    mac: labNicMac,
    address: guestNetwork.guest,
    qemuHost: guestNetwork.host,
    sshdConfig: guest.state.sshdConfig,
    sshdLog: '/run/lvsprov/jump-sshd.log',
  });
  await ok(guest, { script: `${topologyScript(topology, namespaceOf)}${uplink}` }, 'routing the lab and starting its jump sshd', 180_000);
  log(`routes, uplink and jump sshd in ${since(started)}`);
  const clientKey = await ok(guest, ['cat', lab.clientKeyPath], 'reading the lab key', 60_000);
  return {
    controlNamespace: lab.controlNamespace,
    hosts: lab.hosts.map(({ name, namespace, addresses, sshdPid, publicKey }) => ({ name, namespace, addresses, sshdPid, publicKey })),
    clientKey,
  };
}

/** Everything of the lab inside the guest goes: processes, namespaces, mounts; the uplink NIC returns to the root namespace. */
export async function destroyGuestLab(guest: GuestHandle): Promise<void> {
  await ok(guest, { script: releaseUplinkScript(`${labNetnsName}-control`) }, 'returning the uplink to the guest', 60_000);
  await ok(guest, [process.execPath, netnsCli, 'down', guestLabDir], 'tearing the lab down inside the guest', 300_000);
  await ok(guest, ['rm', '-f', specPath], 'removing the lab spec', 60_000);
}

/** argv that runs a command inside a lab host (its network, mounts, filesystem), as root in the guest. */
export function hostArgv(host: ClusterHost, argv: readonly string[]): string[] {
  return ['nsenter', `--target=${host.sshdPid}`, '--mount', '--uts', '--net', '--root', '--wd', '--', ...argv];
}

/** The same as one shell word string, for scripts. */
export function hostCommand(host: ClusterHost, argv: readonly string[]): string {
  return command(...hostArgv(host, argv));
}
