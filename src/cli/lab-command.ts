import { readdirSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { loadInventory } from '../config/inventory.js';
import { ConfigError, UsageError } from '../errors.js';
import type { LabUpResult } from '../lab/cluster/index.js';
import { ExitCode } from './exit-codes.js';
import type { CliIo } from './io.js';
import { oneInventory } from './option-values.js';

// `lvsprov lab up|down|exec`: a disposable real-kernel lab for an inventory. The inventory is checked
// first (problems go to main as ConfigErrors, exit 4). Lab failures (a missing package, a guest
// that does not boot) are the environment's, not the inventory's: a message and exit 1.

interface UpFlags {
  inventory: string;
  name?: string;
  dir?: string;
  readyTimeout?: number;
  bootTimeout?: number;
}

interface DownFlags {
  inventory?: string;
  name?: string;
  dir?: string;
}

function seconds(value: string): number {
  const number = Number(value);
  if (!(number > 0)) throw new InvalidArgumentError(`expected a number of seconds, not ${value}`);
  return number;
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

function describeUp(result: LabUpResult): string[] {
  const lab = result.state.lab;
  const { bootMs, buildMs, totalMs } = result.timings;
  const boot = bootMs !== undefined ? `guest booted in ${(bootMs / 1000).toFixed(1)} s` : 'running guest reused';
  const lines = [`lab ${result.name} is up in ${shown(result.dir)} (${boot}, hosts built in ${(buildMs / 1000).toFixed(1)} s, ${(totalMs / 1000).toFixed(1)} s in all)`];
  for (const host of lab?.hosts ?? []) {
    if (host.name !== lab?.client.name) lines.push(`  ${host.name.padEnd(12)} ${host.addresses.join(', ')}`);
  }
  const client = lab?.hosts.find((host) => host.name === lab.client.name);
  if (lab && client) lines.push(`  ${`${client.name} (lab)`.padEnd(12)} ${lab.client.addresses.join(', ')}, gateway ${lab.client.gateway}`);
  lines.push(
    `  jump host: root@127.0.0.1:${result.state.guest.labPort ?? '?'}; the guest itself: root@127.0.0.1:${result.state.guest.sshPort} (key ${shown(result.state.guest.endpoint.clientKey)})`,
    '',
    'next:',
    `  lvsprov apply -i ${shown(result.inventory)}`,
    `  lvsprov lab exec --dir ${shown(result.dir)} ${lab?.client.name ?? 'client'} curl -s http://VIP/`,
    `  lvsprov lab down --dir ${shown(result.dir)}`,
  );
  return lines;
}

/** The lab's code (qemu, namespaces, clusters) loads only when a lab command runs: apply never pays for it. */
async function labCode(): Promise<typeof import('../lab/cluster/index.js') & typeof import('../lab/qemu/guest.js') & typeof import('../lab/qemu/errors.js')> {
  const [cluster, guest, errors] = await Promise.all([import('../lab/cluster/index.js'), import('../lab/qemu/guest.js'), import('../lab/qemu/errors.js')]);
  return { ...cluster, ...guest, ...errors };
}

/** The lab dir meant: --dir, --name, the inventory's name, or the only lab under .lab. */
async function labDir(flags: DownFlags): Promise<string> {
  const { defaultLabDir, labName } = await labCode();
  if (flags.dir) return resolve(flags.dir);
  // Held to the grammar `lab up` names labs by: `--name ..` would be the folder holding .lab.
  if (flags.name !== undefined) return defaultLabDir(labName('', undefined, flags.name));
  if (flags.inventory) return defaultLabDir(labName(flags.inventory, loadInventory(resolve(flags.inventory)).data.name, undefined));
  let labs: string[] = [];
  try {
    labs = readdirSync(resolve('.lab'));
  } catch {
    // no .lab at all
  }
  if (labs.length === 1) return defaultLabDir(labs[0] as string);
  throw new UsageError(labs.length === 0 ? 'no lab under .lab; name one with --dir or --name' : `several labs under .lab (${labs.join(', ')}); pick one with --name`);
}

/** The command after the host: a leading `--` only separates it from lvsprov's own options. */
export function commandWords(words: readonly string[]): string[] {
  const argv = words[0] === '--' ? words.slice(1) : [...words];
  if (argv.length === 0) throw new UsageError('lab exec needs a command after the host');
  return argv;
}

async function failed(io: CliIo, setExit: (code: number) => void, what: string, error: unknown): Promise<void> {
  if (error instanceof ConfigError || error instanceof UsageError) throw error;
  const { LabUnavailableError, LabPrerequisiteError } = await labCode();
  if (error instanceof LabUnavailableError) {
    for (const line of error.lines) io.err(line);
  } else if (error instanceof LabPrerequisiteError) {
    io.err(`lvsprov lab cannot run here: ${error.message}`);
  } else {
    io.err(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  setExit(ExitCode.internal);
}

export function labCommand(io: CliIo, setExit: (code: number) => void): Command {
  const up = new Command('up')
    .description('boot a real-kernel guest and build the inventory\'s hosts in it, plus a router and a client; write a ready inventory')
    .requiredOption('-i, --inventory <file>', 'inventory YAML (lab addresses only: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15)', oneInventory)
    .option('-n, --name <name>', "lab name (default: the inventory's name)")
    .option('--dir <dir>', 'lab work dir (default: .lab/<name>)')
    .option('--ready-timeout <seconds>', "how long each host's sshd may take to start (default 300)", seconds)
    .option('--boot-timeout <seconds>', 'how long the guest may take to boot (default 300)', seconds)
    .action(async (flags: UpFlags) => {
      try {
        const { labUp } = await labCode();
        const result = await labUp({
          inventoryFile: flags.inventory,
          ...(flags.name !== undefined ? { name: flags.name } : {}),
          ...(flags.dir !== undefined ? { dir: flags.dir } : {}),
          ...(flags.readyTimeout !== undefined ? { readyTimeoutS: flags.readyTimeout } : {}),
          ...(flags.bootTimeout !== undefined ? { bootTimeoutMs: flags.bootTimeout * 1000 } : {}),
          log: (line) => io.err(`lab: ${line}`),
        });
        for (const line of describeUp(result)) io.out(line);
      } catch (error) {
        await failed(io, setExit, 'lab up', error);
      }
    });
  const down = new Command('down')
    .description('power the lab guest off and remove everything the lab made')
    .option('-i, --inventory <file>', 'the inventory the lab was built from (names the lab)', oneInventory)
    .option('-n, --name <name>', 'lab name')
    .option('--dir <dir>', 'lab work dir')
    .action(async (flags: DownFlags) => {
      const dir = await labDir(flags);
      try {
        const { labDown } = await labCode();
        const result = await labDown(dir);
        io.out(result.found ? `lab in ${shown(dir)} is down (qemu ${result.qemuPid} stopped, files removed)` : `no lab in ${shown(dir)}; nothing to do`);
      } catch (error) {
        await failed(io, setExit, 'lab down', error);
      }
    });
  const exec = new Command('exec')
    .description("run a command inside a lab host (the client too): its network, its files; e.g. lab exec client curl -s http://VIP/")
    .argument('<host>', 'lab host name')
    .argument('<command...>', 'the command and its arguments (put -- before options of its own)')
    .option('-n, --name <name>', 'lab name')
    .option('--dir <dir>', 'lab work dir')
    // Options after the host belong to the command: `lab exec client curl -s URL`.
    .passThroughOptions()
    .action(async (hostName: string, words: string[], flags: DownFlags) => {
      const argv = commandWords(words);
      const dir = await labDir(flags);
      const { attachGuest, hostArgv, loadClusterState } = await labCode();
      const state = await loadClusterState(dir);
      if (!state?.lab) throw new UsageError(`no lab is up in ${shown(dir)}`);
      const host = state.lab.hosts.find((candidate) => candidate.name === hostName);
      if (!host) throw new UsageError(`lab ${state.name} has no host ${hostName} (it has ${state.lab.hosts.map((candidate) => candidate.name).join(', ')})`);
      const result = await attachGuest(state.guest).run(hostArgv(host, argv), { timeoutMs: 600_000 });
      if (result.stdout !== '') io.out(result.stdout.replace(/\n$/, ''));
      if (result.stderr !== '') io.err(result.stderr.replace(/\n$/, ''));
      setExit(result.code ?? ExitCode.internal);
    });
  const lab = new Command('lab').description('a real-kernel lab (qemu guest, namespace hosts) for an inventory').enablePositionalOptions();
  for (const sub of [up, down, exec]) lab.addCommand(sub.exitOverride().showHelpAfterError());
  return lab;
}
