import type { CompiledRun } from '../config/compile.js';
import { JumpPool, openSession } from '../transport/ssh-session.js';
import type { ConnectionTarget, ConnectOptions } from '../transport/types.js';
import type { EventSink, HostResult } from './events.js';
import type { RunLock } from './host-lock.js';
import { runHost } from './host-run.js';
import type { RunMode } from './planners.js';

// All hosts in parallel, at most `forks` at a time. A failed or unreachable host never stops the
// others; every host gets a result.

export interface RunOptions extends ConnectOptions {
  readonly check: boolean;
  readonly forks: number;
  /** `apply` (the default) or `reset`: the same pipeline with another planner. */
  readonly mode?: RunMode;
  /** The host lock every changing run takes on each host, from its read to its last exec. */
  readonly lock?: RunLock;
  /** Start nothing new (no host, no apply); what is being applied finishes. */
  readonly interrupt?: AbortSignal;
  /** Stop everything at once; hosts being applied may be left half-applied. */
  readonly abort?: AbortSignal;
}

export interface RunSummary {
  readonly results: readonly HostResult[];
  readonly jumpConnections: number;
}

export async function runAll(
  run: CompiledRun,
  targets: ReadonlyMap<string, ConnectionTarget>,
  options: RunOptions,
  emit: EventSink,
): Promise<RunSummary> {
  const jumps = new JumpPool(options);
  const hosts = [...run.hosts.keys()];
  const results = new Array<HostResult>(hosts.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < hosts.length) {
      const index = next++;
      const host = hosts[index] as string;
      const target = targets.get(host);
      if (!target) throw new Error(`no connection settings for ${host}`);
      results[index] = await runHost(host, run.hosts.get(host) ?? [], () => openSession(target, options, jumps), options, emit);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.forks, hosts.length)) }, worker));
  } finally {
    jumps.close();
  }
  return { results, jumpConnections: jumps.connections };
}
