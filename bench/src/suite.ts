import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, flatLabSpec, labAvailability, type Lab } from '../../src/lab/netns/index.js';
import { ansibleContender, ansibleVersion } from './ansible-contender.js';
import type { BenchArgs } from './args.js';
import type { Contender, RunOutcome } from './contender.js';
import { floorContender } from './floor.js';
import { ansibleInventory, lvsprovInventory, writeYaml } from './inventories.js';
import { lvsprovContender } from './lvsprov-contender.js';
import { reapedCpuSeconds } from './proc-cpu.js';
import { runEnv } from './timed-run.js';
import { busyShare, machineCpuTimes } from './machine-cpu.js';
import { watchContender } from './watch-contender.js';
import { resetHosts } from './reset.js';
import type { SessionCounts } from './sshd-log.js';
import { useStockBashrc } from './host-shell.js';
import { SshdLogs } from './sshd-logs.js';
import { summarize, type Summary } from './stats.js';

// One lab, every contender in turn, repeated: interleaving the contenders inside each repetition
// spreads slow moments of this shared machine over all of them instead of one.

export interface Range {
  readonly min: number;
  readonly max: number;
}

export interface RunRecord extends RunOutcome {
  /** The share of the whole machine's CPU (all cores, every process) busy during the run, 0..1. */
  readonly machineBusy?: number;
  /** CPU seconds the run cost all hosts together: what their sshds reaped (proc-cpu.ts). */
  readonly hostCpuSeconds?: number;
  /** Per host, as that host's sshd logged it: min and max over the hosts. */
  readonly server: { readonly connections: Range; readonly sessions: Range; readonly execs: Range };
}

export interface ContenderResult {
  readonly id: Contender['id'];
  readonly label: string;
  readonly runs: readonly RunRecord[];
  readonly seconds?: Summary;
  readonly skipped?: string;
  /** Runs that failed (rep 0 is the warm-up); none of them is a sample. */
  readonly failures?: readonly Failure[];
}

export interface Failure {
  readonly rep: number;
  readonly message: string;
}

export interface BenchResult {
  readonly hosts: number;
  readonly reps: number;
  readonly ansibleReps: number;
  readonly machine: { readonly cpus: number; readonly node: string; readonly loadBefore: readonly number[]; readonly loadAfter: readonly number[] };
  readonly labUpSeconds: number;
  /** Whether the hosts kept this machine's root .bashrc (--host-bashrc) instead of a stock one. */
  readonly hostBashrc: boolean;
  /** Whether an untimed warm-up round ran first. */
  readonly warmUp?: boolean;
  readonly ansible?: string;
  readonly contenders: readonly ContenderResult[];
}

function range(values: readonly number[]): Range {
  return { min: Math.min(...values), max: Math.max(...values) };
}

function serverRanges(counts: ReadonlyMap<string, SessionCounts>): RunRecord['server'] {
  const all = [...counts.values()];
  return {
    connections: range(all.map((count) => count.connections)),
    sessions: range(all.map((count) => count.sessions)),
    execs: range(all.map((count) => count.execs)),
  };
}

export async function runBench(args: BenchArgs, log: (line: string) => void): Promise<BenchResult> {
  const availability = labAvailability();
  if (!availability.ok) throw new Error(`the netns lab cannot run here: ${availability.reason}`);
  const ansible = args.ansible ? ansibleVersion() : undefined;
  const workDir = await mkdtemp(join(tmpdir(), 'lvsprov-bench-'));
  const loadBefore = loadavg();
  log(`building a lab of ${args.hosts} hosts in ${workDir}`);
  const labStart = performance.now();
  let lab: Lab | undefined;
  // Stopped by a signal (a 1000-host round holds the lab lock for many minutes), the bench still
  // takes its namespaces and sshds down: stray ones break every later lab.
  const stop = (signal: NodeJS.Signals): void => {
    log(`${signal}: taking the lab down`);
    void (lab?.destroy() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    // A lab name no other running bench has: namespaces are named after it.
    lab = await createLab(flatLabSpec(`bench${(process.pid % 46656).toString(36)}`, args.hosts), join(workDir, 'lab'));
    return await measure({ lab, args, workDir, labUpSeconds: (performance.now() - labStart) / 1000, ansible, loadBefore, log });
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
    const report = await lab?.destroy();
    if (report && report.leftovers.length > 0) log(`lab teardown left: ${report.leftovers.join(', ')}`);
    if (!args.keep) await rm(workDir, { recursive: true, force: true });
  }
}

interface MeasureContext {
  readonly lab: Lab;
  readonly args: BenchArgs;
  readonly workDir: string;
  readonly labUpSeconds: number;
  readonly ansible: string | undefined;
  readonly loadBefore: readonly number[];
  readonly log: (line: string) => void;
}

async function measure({ lab, args, workDir, labUpSeconds, ansible, loadBefore, log }: MeasureContext): Promise<BenchResult> {
  // The lab gives a login 30 s. With every host at once, OpenSSH's default key exchange needs
  // more than that on two cores from about 200 hosts on, and sshd drops the latecomers: the floor
  // would measure sshd's patience instead of the cost of a login.
  const logs = await SshdLogs.enable(lab, { LoginGraceTime: '300' });
  if (!args.hostBashrc) await useStockBashrc(lab);
  if (args.cpuProfDir) await mkdir(args.cpuProfDir, { recursive: true });
  const contenders = await buildContenders(lab, args, workDir, ansible !== undefined);
  const runs = new Map<Contender['id'], RunRecord[]>(contenders.map((contender) => [contender.id, []]));
  const failures = new Map<Contender['id'], Failure[]>(contenders.map((contender) => [contender.id, []]));
  for (let rep = args.warmUp ? 0 : 1; rep <= args.reps; rep++) {
    const when = rep === 0 ? 'warm-up' : `rep ${rep}/${args.reps}`;
    for (const contender of contenders) {
      if (contender.id.startsWith('ansible') && rep > args.ansibleReps) continue;
      const failed = failures.get(contender.id) ?? [];
      // Twice is not bad luck; further attempts would only spend the time budget.
      if (failed.length >= 2) continue;
      await contender.prepare?.();
      const mark = await logs.mark();
      try {
        const sshds = lab.hosts.map((host) => host.sshdPid);
        const hostCpuBefore = await reapedCpuSeconds(sshds);
        const cpuBefore = await machineCpuTimes();
        const outcome = await contender.run({ env: runEnv, rssFile: join(workDir, 'rss.txt'), wrap: (argv) => lab.controlArgv(argv) }, rep === 0);
        const cpuAfter = await machineCpuTimes();
        const hostCpuAfter = await reapedCpuSeconds(sshds);
        const machineBusy = cpuBefore && cpuAfter ? busyShare(cpuBefore, cpuAfter) : undefined;
        const hostCpuSeconds = hostCpuBefore !== undefined && hostCpuAfter !== undefined ? hostCpuAfter - hostCpuBefore : undefined;
        const record: RunRecord = {
          ...outcome,
          ...(machineBusy !== undefined ? { machineBusy } : {}),
          ...(hostCpuSeconds !== undefined ? { hostCpuSeconds } : {}),
          server: serverRanges(await logs.since(mark)),
        };
        log(`${when}: ${contender.label}: ${record.seconds.toFixed(2)} s${rep === 0 && contender.id.startsWith('ansible') ? ' (warm-up on one host)' : ''}`);
        if (rep > 0) runs.get(contender.id)?.push(record);
      } catch (error) {
        // A failed run is never a sample. It is reported, and the other contenders go on.
        const message = error instanceof Error ? error.message : String(error);
        failed.push({ rep, message });
        log(`${when}: ${contender.label}: FAILED: ${message}`);
      }
    }
  }
  const results: ContenderResult[] = contenders.map((contender) => {
    const records = runs.get(contender.id) ?? [];
    const failed = failures.get(contender.id) ?? [];
    return {
      id: contender.id,
      label: contender.label,
      runs: records,
      ...(records.length > 0 ? { seconds: summarize(records.map((record) => record.seconds)) } : {}),
      ...(failed.length > 0 ? { failures: failed } : {}),
    };
  });
  if (ansible === undefined) {
    const skipped = args.ansible ? 'ansible-playbook is not installed (apt-get install -y ansible)' : 'skipped (--no-ansible)';
    results.push({ id: 'ansible-first', label: 'ansible first run', runs: [], skipped }, { id: 'ansible-rerun', label: 'ansible re-run', runs: [], skipped });
  }
  const machine = { cpus: cpus().length, node: process.version, loadBefore, loadAfter: loadavg() };
  return { hosts: args.hosts, reps: args.reps, ansibleReps: args.ansibleReps, machine, labUpSeconds, hostBashrc: args.hostBashrc, warmUp: args.warmUp, ...(ansible ? { ansible } : {}), contenders: results };
}

async function buildContenders(lab: Lab, args: BenchArgs, workDir: string, withAnsible: boolean): Promise<Contender[]> {
  const reset = (): Promise<void> => resetHosts(lab);
  const lvsprov = { inventory: await writeYaml(workDir, 'inventory.yaml', lvsprovInventory(lab)), hosts: args.hosts, ...(args.cpuProfDir ? { cpuProfDir: args.cpuProfDir } : {}) };
  const contenders = [...(args.defaultFloor ? [floorContender(lab, 'default')] : []), floorContender(lab, 'curve25519'), lvsprovContender(lab, lvsprov, 'first', reset), lvsprovContender(lab, lvsprov, 'rerun', reset)];
  // Right after a re-run, so every host is in sync.
  if (args.watchInterval > 0) contenders.push(watchContender(lab, lvsprov, args.watchInterval));
  if (withAnsible) {
    const ansible = { inventory: await writeYaml(workDir, 'ansible-inventory.yaml', ansibleInventory(lab)), hosts: args.hosts, runDir: workDir };
    contenders.push(ansibleContender(lab, ansible, 'first', reset), ansibleContender(lab, ansible, 'rerun', reset));
  }
  return contenders;
}
