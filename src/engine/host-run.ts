import type { CompiledTask } from '../config/compile.js';
import { ApplyError, ConnectError, ProbeError } from '../errors.js';
import type { HostSession } from '../transport/types.js';
import { applyScript, newNonce, parseSections, readScript, unfinishedSection } from './batch-script.js';
import type { EventSink, HostResult, PlannedChange } from './events.js';
import { hostReadPlan, planHost } from './host-plan.js';
import type { RunMode } from './planners.js';

// One host's pipeline: connect, one batched read, a pure plan, and - unless this is a check - one
// batched apply. Dry-run is not a flag threaded through the resources: it is this function
// returning after the plan.

export interface HostRunOptions {
  readonly check: boolean;
  /** Which planner: `apply` (the default) or `reset`, see planners.ts. */
  readonly mode?: RunMode;
}

export async function runHost(
  host: string,
  tasks: readonly CompiledTask[],
  connect: () => Promise<HostSession>,
  options: HostRunOptions,
  emit: EventSink,
): Promise<HostResult> {
  const started = performance.now();
  let session: HostSession | undefined;
  const finish = (partial: Omit<HostResult, 'host' | 'stats' | 'seconds'>): HostResult => {
    const result: HostResult = {
      host,
      ...partial,
      stats: { connections: session?.stats.connections ?? 0, execs: session?.stats.execs ?? 0 },
      seconds: (performance.now() - started) / 1000,
    };
    emit({ type: 'host-done', result });
    return result;
  };

  emit({ type: 'host-start', host });
  emit({ type: 'host-phase', host, phase: 'connecting' });
  try {
    session = await connect();
  } catch (error) {
    const kind = error instanceof ConnectError ? 'connect' : 'internal';
    return finish({ status: 'unreachable', changes: [], applied: 0, error: { kind, message: (error as Error).message } });
  }

  const changes: PlannedChange[] = [];
  let applied = 0;
  try {
    emit({ type: 'host-phase', host, phase: 'reading' });
    const read = hostReadPlan(tasks, options.mode ?? 'apply');
    const nonce = newNonce();
    const output = await session.exec(readScript(nonce, read.probes));
    const sections = parseSections(nonce, output.stdout);
    if (sections.size !== read.probes.length) {
      throw new ProbeError(`reading state failed (exit ${output.code}): ${output.stderr.trim() || 'the read script ended early'}`);
    }

    emit({ type: 'host-phase', host, phase: 'planning' });
    changes.push(...planHost(read, sections, host));
    emit({ type: 'host-planned', host, changes: changes.length });

    if (options.check || changes.length === 0) {
      return finish({ status: options.check && changes.length > 0 ? 'changed' : 'ok', changes, applied: 0 });
    }

    emit({ type: 'host-phase', host, phase: 'applying' });
    const applyNonce = newNonce();
    const result = await session.exec(applyScript(applyNonce, changes.map((change) => change.commands)));
    const done = parseSections(applyNonce, result.stdout);
    applied = [...done.values()].filter((section) => section.status === 0).length;
    if (applied !== changes.length) {
      const failedIndex = applied;
      const failed = changes[failedIndex];
      const output = done.get(failedIndex)?.stdout ?? unfinishedSection(applyNonce, result.stdout, failedIndex) ?? result.stderr;
      throw new ApplyError(`${failed?.summary ?? 'apply'} failed (exit ${done.get(failedIndex)?.status ?? result.code})`, output.trim());
    }
    return finish({ status: 'changed', changes, applied });
  } catch (error) {
    const kind = error instanceof ApplyError ? 'apply' : error instanceof ProbeError ? 'probe' : 'internal';
    return finish({
      status: 'failed',
      changes,
      applied,
      error: { kind, message: (error as Error).message, ...(error instanceof ApplyError ? { output: error.output } : {}) },
    });
  } finally {
    session.close();
  }
}
