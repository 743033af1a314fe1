import { readFile, writeFile } from 'node:fs/promises';
import { quote } from '../../shell/quote.js';
import { destroyLab, type DestroyReport } from './destroy.js';
import { hostKeyPath } from './host-process.js';
import { generateKeyPair } from './keys.js';
import { run, type RunOptions, type RunResult } from './process.js';
import { isRunning, sendSignal, type ProcessIdentity } from './processes.js';
import { hostKeyName, hostSshDir, knownHostsText } from './ssh-files.js';
import { waitForHostKey } from './ssh-ready.js';
import { loadState, saveState, type HostState, type LabState } from './state.js';

export interface LabHost {
  readonly name: string;
  readonly namespace: string;
  /** Every address, in interface order; the first is the one to connect to. */
  readonly addresses: readonly string[];
  readonly interfaces: HostState['interfaces'];
  readonly sshdPid: number;
  /** The host key sshd serves now, as `ssh-ed25519 AAAA...`. */
  readonly publicKey: string;
  readonly mountNamespace: number | undefined;
}

/** Milliseconds spent in each phase of createLab, for the benchmark and `up`'s output. */
export interface StartTimings {
  readonly keysMs: number;
  readonly networkMs: number;
  readonly hostsMs: number;
  readonly totalMs: number;
}

/** An earlier lab of the same name or directory that nothing ran any more, torn down to make room. */
export interface ReplacedLab extends DestroyReport {
  readonly workDir: string;
}

/** A running lab. Build one with createLab, or attach to one `up` started with openLab. */
export class Lab {
  private destroyed: Promise<DestroyReport> | undefined;

  /** `timings` is set when this process started the lab, absent when it attached with openLab. */
  constructor(
    private readonly state: LabState,
    readonly timings?: StartTimings,
    readonly replaced: readonly ReplacedLab[] = [],
  ) {}

  get name(): string {
    return this.state.name;
  }
  get workDir(): string {
    return this.state.workDir;
  }
  get controlNamespace(): string {
    return this.state.controlNamespace;
  }
  get clientKeyPath(): string {
    return this.state.clientKeyPath;
  }
  get knownHostsPath(): string {
    return this.state.knownHostsPath;
  }
  get subnets(): LabState['subnets'] {
    return this.state.subnets;
  }

  get hosts(): LabHost[] {
    return this.state.hosts.map(toLabHost);
  }

  host(name: string): LabHost {
    return toLabHost(this.hostState(name));
  }

  /**
   * argv that runs a command inside a host's namespaces and filesystem, entered through its sshd
   * process rather than over SSH: tests read back what lvsprov did by a path that shares nothing
   * with lvsprov's transport.
   */
  hostArgv(hostName: string, argv: readonly string[]): string[] {
    const sshd = this.runningSshd(hostName);
    // A host that boots systemd has a PID namespace of its own, which its /proc shows.
    const pid = this.hostState(hostName).init === 'systemd' ? ['--pid'] : [];
    return ['nsenter', `--target=${sshd.pid}`, '--mount', '--uts', '--net', ...pid, '--root', '--wd', '--', ...argv];
  }

  exec(hostName: string, argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return run(this.hostArgv(hostName, argv), options);
  }

  /** argv that runs a command in the control namespace, where lvsprov, ssh and ansible run. */
  controlArgv(argv: readonly string[]): string[] {
    return ['ip', 'netns', 'exec', this.state.controlNamespace, ...argv];
  }

  runInControl(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return run(this.controlArgv(argv), options);
  }

  /** A plain OpenSSH command (to run via runInControl) that logs into a host as root with the lab key. */
  sshArgv(hostName: string, remote: readonly string[]): string[] {
    const address = this.host(hostName).addresses[0];
    return [
      'ssh', '-F', '/dev/null', '-i', this.clientKeyPath, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${this.knownHostsPath}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes',
      '-o', 'ConnectTimeout=30', '-o', 'LogLevel=ERROR', `root@${address}`, '--',
      // ssh hands the remote side one string for its shell, so every word is quoted here.
      ...remote.map((word) => quote(word)),
    ];
  }

  /**
   * Give a host a new host key: a fresh pair goes into its filesystem and its sshd gets SIGHUP,
   * on which OpenSSH re-executes itself (same pid, same namespaces and files) and loads the key.
   * Resolves once the control namespace sees the new key. known_hosts is left as it was, so a
   * strict client now meets a changed key; call writeKnownHosts() to accept it.
   */
  async restartSshdWithNewKey(hostName: string): Promise<string> {
    const host = this.hostState(hostName);
    const sshd = this.runningSshd(hostName);
    const keyPath = hostKeyPath(this.workDir, hostName);
    const publicKey = await generateKeyPair(keyPath, `${hostName}@${this.name}`);
    // /proc/PID/root is the host's root as that process sees it: its overlay, in its mount namespace.
    const target = `/proc/${sshd.pid}/root${hostSshDir}/${hostKeyName}`;
    await writeFile(target, await readFile(keyPath), { mode: 0o600 });
    await writeFile(`${target}.pub`, await readFile(`${keyPath}.pub`));
    sendSignal(sshd, 'SIGHUP');
    const address = host.interfaces[0]?.address;
    if (address) await waitForHostKey(this.controlNamespace, address, publicKey, 15_000);
    host.publicKey = publicKey;
    await saveState(this.state);
    return publicKey;
  }

  /**
   * Make a host present an OpenSSH host certificate of its key (one line of a -cert.pub file):
   * the file goes into its filesystem, its sshd_config gains a HostCertificate line, and sshd
   * re-executes on SIGHUP. Resolves once the control namespace is served the certificate.
   */
  async presentHostCertificate(hostName: string, certificate: string): Promise<void> {
    const sshd = this.runningSshd(hostName);
    const root = `/proc/${sshd.pid}/root${hostSshDir}`;
    const file = `${hostKeyName}-cert.pub`;
    await writeFile(`${root}/${file}`, `${certificate.trim()}\n`);
    const config = await readFile(`${root}/sshd_config`, 'utf8');
    const line = `HostCertificate ${hostSshDir}/${file}`;
    if (!config.split('\n').includes(line)) await writeFile(`${root}/sshd_config`, `${config}${line}\n`);
    sendSignal(sshd, 'SIGHUP');
    const address = this.hostState(hostName).interfaces[0]?.address;
    if (address) await waitForHostKey(this.controlNamespace, address, certificate.trim().split(/\s+/).slice(0, 2).join(' '), 15_000);
  }

  /** Rewrite known_hosts from every host's current key. */
  writeKnownHosts(): Promise<void> {
    return writeKnownHosts(this.state);
  }

  /** Idempotent: a second call returns the first call's report. */
  destroy(): Promise<DestroyReport> {
    this.destroyed ??= destroyLab(this.state);
    return this.destroyed;
  }

  toJSON(): object {
    return {
      name: this.name,
      workDir: this.workDir,
      controlNamespace: this.controlNamespace,
      clientKeyPath: this.clientKeyPath,
      knownHostsPath: this.knownHostsPath,
      subnets: this.subnets,
      hosts: this.hosts,
      ...(this.timings ? { timings: this.timings } : {}),
      ...(this.replaced.length > 0 ? { replaced: this.replaced } : {}),
    };
  }

  /** The host's sshd, checked by pid and start time: a pid alone may since belong to another process. */
  private runningSshd(hostName: string): ProcessIdentity {
    const sshd = this.hostState(hostName).sshd;
    if (!sshd || !isRunning(sshd)) throw new Error(`host ${hostName}: its sshd is not running`);
    return sshd;
  }

  private hostState(name: string): HostState {
    const host = this.state.hosts.find((candidate) => candidate.name === name);
    if (!host) throw new Error(`lab ${this.name} has no host named ${name}`);
    return host;
  }
}

function toLabHost(host: HostState): LabHost {
  return {
    name: host.name,
    namespace: host.namespace,
    addresses: host.interfaces.map((iface) => iface.address),
    interfaces: host.interfaces,
    sshdPid: host.sshd?.pid ?? 0,
    publicKey: host.publicKey,
    mountNamespace: host.mountNamespace,
  };
}

export async function writeKnownHosts(state: LabState): Promise<void> {
  await writeFile(state.knownHostsPath, knownHostsText(state.hosts.map(toLabHost)), { mode: 0o644 });
}

/** Attach to a lab that is up, e.g. one started by `cli.js up` in another process. */
export async function openLab(workDir: string): Promise<Lab> {
  const state = await loadState(workDir);
  if (state.phase !== 'up') throw new Error(`the lab in ${workDir} never finished starting; run \`down\` on it`);
  return new Lab(state);
}
