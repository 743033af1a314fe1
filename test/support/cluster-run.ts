import type { CompiledTask } from '../../src/config/compile.js';
import { ConnectError, ConnectionLostError } from '../../src/errors.js';
import type { HostResult, PlannedChange } from '../../src/engine/events.js';
import { runWaves } from '../../src/engine/run.js';
import { serverKey, type Drain, type WavePlan } from '../../src/engine/wave-plan.js';
import { MANIFEST_FILE, renderManifest } from '../../src/ownership/manifest.js';
import { declaredRecords } from '../../src/ownership/records.js';
import type { ChangePhase } from '../../src/resources/types.js';
import type { ExecOptions, ExecResult, HostSession, SessionStats } from '../../src/transport/types.js';
import { answeringArp, applyChange, readAnswer, type Inventory, type SimHost } from './cluster-sim.js';
import { fileEffect } from './command-model.js';
import { isManifestProbe, manifestRead } from './manifest-read.js';

// The real engine (runWaves: its waves, hold-backs, hand-overs and drains) run over the simulated
// cluster of cluster-sim.ts: each host's session answers its read from the host's facts, runs each
// section of an apply through the command model as it comes (so a director's check of who still
// holds a VIP asks the cluster as it stands then), and records what the manifest writes say. One
// host may fail: unreachable, its read lost, one section of one wave's exec failing, or its drain
// lost. What the run made is then known change by change (the results' outcomes), for the traffic
// model (cluster-traffic.ts) to judge wave by wave.

/** Where a host fails: before its read, in it, at a section of its exec in a wave (the last when it has fewer), or in its drain. */
export type Failure = { readonly host: string; readonly at: 'connect' | 'read' | 'drain' } | { readonly host: string; readonly at: ChangePhase; readonly section: number };

export interface ClusterRun {
  readonly results: readonly HostResult[];
  /** Each host's changes that ran (outcome `made`), in the order they ran. */
  readonly made: Map<string, PlannedChange[]>;
  /** The drains that ran: the engine's plan of them, with only the servers each host reported drained. */
  readonly drains: Drain[];
  readonly plan: WavePlan;
}

const section = (nonce: string, index: number, stdout: string, status: number): string => `<<<${nonce} ${index}\n${stdout}\n>>>${nonce} ${index} ${status}\n`;

/** The read's prefetch of files comes before the first probe (see fake-session.ts): left out. */
const withoutPrefetch = (body: string): string => body.replace(/^lvsprov_prefetched=''\n[\s\S]*?\nunset lvsprov_ids lvsprov_sizes[^\n]*\n\} 9>&-\n[^\n]*\n[^\n]*\n[({]\n/, '');

/** A section's commands, as the plan joined them with newlines: a newline inside quotes (a file's content) is part of its command. */
function commandsOf(body: string): string[] {
  const commands: string[] = [];
  let start = 0;
  let quote: string | undefined;
  for (let index = 0; index < body.length; index += 1) {
    const char = body[index];
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"') index += 1;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '\\') index += 1;
    else if (char === '\n') {
      commands.push(body.slice(start, index));
      start = index + 1;
    }
  }
  // An `if` over several lines (a scheduler swap under its nftables hold) is one command to its `fi`.
  const whole: string[] = [];
  for (const line of [...commands, body.slice(start)]) {
    const last = whole.at(-1);
    if (last !== undefined && /^if /.test(last) && !/(^|[;\n]\s*)fi$/.test(last)) whole[whole.length - 1] = `${last}\n${line}`;
    else whole.push(line);
  }
  return whole;
}

/** The task a section's commands belong to, among the host's recorded and declared tasks: by type, and for an address by its address and device. */
function taskOf(tasks: readonly CompiledTask[], commands: readonly string[]): CompiledTask | undefined {
  const named = [...new Map(tasks.map((task) => [task.name, task])).values()];
  // A TUN server's next-hop pin (ipvs/next-hop-pin.ts, a route of proto 250) is the IPVS task's.
  if (commands.some((command) => command.includes('ipvsadm') || command.includes(' proto 250'))) return named.find((task) => task.type === 'ipvs');
  if (commands.some((command) => /\bnft\b/.test(command))) return named.find((task) => task.type === 'fwmark');
  return named.find((task) => {
    const spec = task.spec as { address?: string; device?: string };
    return task.type === 'address' && commands.some((command) => command.includes(`${spec.address}/`) || command.includes(` ${spec.address}`)) && commands.some((command) => command.includes(`dev ${spec.device}`) || command.includes(`-I ${spec.device} `));
  });
}

class SimSession implements HostSession {
  readonly stats: SessionStats = { connections: 1, channels: 1, execs: 0 };
  private closed = false;

  constructor(
    private readonly name: string,
    private readonly cluster: Map<string, SimHost>,
    private readonly inventory: Inventory,
    private readonly failure: Failure | undefined,
    private readonly phase: () => ChangePhase | undefined,
    private readonly errors: Error[],
  ) {}

  /** A slip of the simulation is no failure of the host: kept for the run to throw. */
  exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    try {
      return this.answer(script, options);
    } catch (error) {
      this.errors.push(error as Error);
      return Promise.reject(error as Error);
    }
  }

  private answer(script: string, _options: ExecOptions): Promise<ExecResult> {
    if (this.closed) return Promise.reject(new ConnectionLostError(`${this.name}: exec on a closed session`, '', ''));
    this.stats.execs += 1;
    const nonce = /'<<<([0-9a-f]+) 0'/.exec(script)?.[1] ?? 'none';
    const host = this.cluster.get(this.name);
    const tasks = this.inventory[this.name] ?? [];
    if (script.includes('polls=$((polls + 1))')) {
      if (this.failure?.host === this.name && this.failure.at === 'drain') return Promise.reject(new ConnectionLostError('the connection went during the drain', '', ''));
      const count = (/printf 'drained %s %s ([%s ]*)\\n'/.exec(script)?.[1]?.match(/%s/g) ?? []).length;
      return Promise.resolve({ stdout: `drained 0 1 ${Array(count).fill(0).join(' ')}\n`, stderr: '', code: 0 });
    }
    if (!script.includes('{ set -e\n')) {
      if (this.failure?.host === this.name && this.failure.at === 'read') return Promise.reject(new ConnectionLostError('the connection went during the read', '', ''));
      const probes = [...script.matchAll(/(?:\(\n([\s\S]*?)\n\)|\{\n([\s\S]*?)\n\}) 9>&-\nrc=\$\?/g)].map((match) => withoutPrefetch(match[1] ?? match[2] ?? ''));
      const answer = readAnswer(this.cluster, this.name, tasks);
      const stdout = probes.map((probe, index) => section(nonce, index, isManifestProbe(probe) ? manifestRead(probe, host?.recorded, answer) : answer(probe), 0)).join('');
      return Promise.resolve({ stdout, stderr: '', code: 0 });
    }
    const bodies = [...script.matchAll(/\{ set -e\n([\s\S]*?)\n\} 2>&1/g)].map((match) => match[1] ?? '');
    const failure = this.failure;
    const failAt = failure !== undefined && failure.host === this.name && 'section' in failure && failure.at === this.phase() ? Math.min(failure.section, bodies.length - 1) : -1;
    let stdout = '';
    for (const [index, body] of bodies.entries()) {
      const status = index === failAt ? 1 : this.run(body, tasks);
      stdout += section(nonce, index, status === 0 ? '' : 'simulated failure', status);
      if (status !== 0) return Promise.resolve({ stdout, stderr: '', code: status });
    }
    return Promise.resolve({ stdout, stderr: '', code: 0 });
  }

  /** One section on the host as it stands: its exit status. */
  private run(body: string, tasks: readonly CompiledTask[]): number {
    const host = this.cluster.get(this.name);
    if (host === undefined) throw new Error(`${this.name}: no such host`);
    // The check of who still answers for a VIP before a take-over (arp-dad.ts): fails while anyone does.
    const dad = /arping -D -c \d+ -w \d+ -I (\S+) (\S+)/.exec(body);
    if (body.includes('lvsprov_dad_status') && dad !== null) return answeringArp(this.cluster, this.name, dad[2] ?? '', dad[1] ?? '').length > 0 ? 1 : 0;
    const commands = commandsOf(body).filter((command) => command !== '');
    const known = [...(host.recorded ?? []), ...tasks];
    const task = taskOf(known, commands.filter((command) => !command.includes('/var/lib/lvsprov')));
    if (task !== undefined) applyChange(this.cluster, this.inventory, this.name, { resource: '', summary: body, commands, task: task.name });
    else if (commands.some((command) => !command.includes('/var/lib/lvsprov'))) throw new Error(`${this.name}: a section of no known task: ${body}`);
    this.record(commands, tasks);
    return 0;
  }

  /** The manifest a section writes: the run's own (its tasks), the interim one (recorded and declared), or none. */
  private record(commands: readonly string[], tasks: readonly CompiledTask[]): void {
    const host = this.cluster.get(this.name);
    if (host === undefined) return;
    for (const command of commands) {
      const write = fileEffect(command, () => ({ exists: false, content: '' }));
      if (write?.path !== MANIFEST_FILE) continue;
      if (!write.state.exists) host.recorded = undefined;
      else if (write.state.content === renderManifest(declaredRecords(tasks))) host.recorded = tasks;
      else {
        const union = [...tasks, ...(host.recorded ?? [])];
        const lines = (text: string): string[] => text.split('\n').slice(1).sort();
        if (lines(renderManifest(declaredRecords(union))).join('\n') !== lines(write.state.content).join('\n')) throw new Error(`${this.name}: a manifest that is neither the run's nor its interim one`);
        host.recorded = union;
      }
    }
  }

  close(): void {
    this.closed = true;
  }
}

/**
 * One apply of `inventory` by the engine on `cluster` (changed in place), `failure` failing one
 * host. `realServers` and `hostAddresses` as the inventory's compile makes them.
 */
export async function runOnCluster(
  cluster: Map<string, SimHost>,
  inventory: Inventory,
  { realServers, hostAddresses, failure }: { realServers: ReadonlyMap<string, string>; hostAddresses: ReadonlyMap<string, string>; failure?: Failure },
): Promise<ClusterRun> {
  let phase: ChangePhase | undefined;
  const errors: Error[] = [];
  const connect = (name: string): Promise<HostSession> => {
    if (failure?.host === name && failure.at === 'connect') return Promise.reject(new ConnectError(`${name}: no route to host`));
    if (!cluster.has(name)) cluster.set(name, { facts: new Map(), recorded: undefined });
    return Promise.resolve(new SimSession(name, cluster, inventory, failure, () => phase, errors));
  };
  const hosts = new Map(Object.entries(inventory).map(([name, tasks]) => [name, tasks as readonly CompiledTask[]]));
  const summary = await runWaves({ hosts, realServers, hostAddresses }, connect, { check: false, drainTimeout: 0 }, (event) => {
    if (event.type === 'wave-start') phase = event.phase;
  });
  if (errors.length > 0) throw errors[0];
  const made = new Map(summary.results.map((result) => [result.host, result.changes.filter((_, index) => result.outcomes?.[index] === 'made')]));
  const drains = summary.plan.drains.flatMap((drain): Drain[] => {
    const ran = new Set((summary.results.find((result) => result.host === drain.host)?.drains ?? []).map(serverKey));
    const servers = drain.servers.filter((server) => ran.has(serverKey(server)));
    if (servers.length === 0) return [];
    const switched = drain.switched?.filter((entry) => ran.has(serverKey(entry.server)));
    return [{ host: drain.host, servers, ...(switched && switched.length > 0 ? { switched } : {}) }];
  });
  return { results: summary.results, made, drains, plan: summary.plan };
}
