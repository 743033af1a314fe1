import type { CompiledTask } from '../config/compile.js';
import { ApplyError, ConnectError, ConnectionLostError, ExecAbortedError, LockError, ProbeError } from '../errors.js';
import type { HostSession } from '../transport/types.js';
import { applyScript, newNonce, parseSections, readScript, unfinishedSection } from './batch-script.js';
import { changeOutcomes, countOutcomes } from './change-outcomes.js';
import type { ChangeOutcome, EventSink, HostResult, LockWait, PlannedChange } from './events.js';
import { acquiredLock, acquirePrelude, checkHeld, holdPrelude, type RunLock } from './host-lock.js';
import { hostReadPlan, planHost } from './host-plan.js';
import type { RunMode } from './planners.js';

// One host's pipeline: connect, one batched read (which takes the host lock first), a pure plan,
// and - unless this is a check - one batched apply. Dry-run is not a flag threaded through the
// resources: it is this function returning after the plan.

export interface HostRunOptions {
  readonly check: boolean;
  /** Which planner: `apply` (the default) or `reset`, see planners.ts. */
  readonly mode?: RunMode;
  /** Taken by the read of a run that may change the host; a check takes none. */
  readonly lock?: RunLock;
  /** Start nothing new: a read in progress is stopped, an apply in progress finishes. */
  readonly interrupt?: AbortSignal;
  /** Stop at once, whatever runs. */
  readonly abort?: AbortSignal;
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
  let lockWait: LockWait | undefined;
  const finish = (partial: Omit<HostResult, 'host' | 'stats' | 'seconds'>): HostResult => {
    const result: HostResult = {
      host,
      ...partial,
      ...(lockWait ? { lock: lockWait } : {}),
      stats: { connections: session?.stats.connections ?? 0, execs: session?.stats.execs ?? 0 },
      seconds: (performance.now() - started) / 1000,
    };
    emit({ type: 'host-done', result });
    return result;
  };
  const stopped = (): boolean => Boolean(options.interrupt?.aborted || options.abort?.aborted);

  emit({ type: 'host-start', host });
  if (stopped()) return finish({ status: 'interrupted', interrupted: 'before-apply', changes: [], applied: 0 });
  emit({ type: 'host-phase', host, phase: 'connecting' });
  try {
    session = await connect();
  } catch (error) {
    const kind = error instanceof ConnectError ? 'connect' : 'internal';
    return finish({ status: 'unreachable', changes: [], applied: 0, error: { kind, message: (error as Error).message } });
  }

  const changes: PlannedChange[] = [];
  const lock = options.check ? undefined : options.lock;
  let applyNonce: string | undefined;
  try {
    emit({ type: 'host-phase', host, phase: 'reading' });
    const readPlan = hostReadPlan(tasks, options.mode ?? 'apply');
    const probes = readPlan.probes;
    const nonce = newNonce();
    const readSignal = AbortSignal.any([options.interrupt, options.abort].filter((signal): signal is AbortSignal => signal !== undefined));
    const read = await session.exec(readScript(nonce, probes, lock ? acquirePrelude(lock, nonce) : undefined), { signal: readSignal });
    if (lock) {
      lockWait = acquiredLock(nonce, read.stdout, lock.timeoutSeconds);
      if (lockWait) emit({ type: 'host-lock-waited', host, wait: lockWait });
    }
    const sections = parseSections(nonce, read.stdout);
    if (sections.size !== probes.length) {
      throw new ProbeError(`reading state failed (exit ${read.code}): ${read.stderr.trim() || 'the read script ended early'}`);
    }

    emit({ type: 'host-phase', host, phase: 'planning' });
    changes.push(...planHost(readPlan, sections, host));
    emit({ type: 'host-planned', host, changes: changes.length });

    if (options.check || changes.length === 0) {
      return finish({ status: options.check && changes.length > 0 ? 'changed' : 'ok', changes, applied: 0 });
    }
    if (stopped()) return finish({ status: 'interrupted', interrupted: 'before-apply', changes, applied: 0, outcomes: changes.map(() => 'not-made') });

    emit({ type: 'host-phase', host, phase: 'applying' });
    applyNonce = newNonce();
    const commands = changes.map((change) => change.commands);
    const result = await session.exec(applyScript(applyNonce, commands, lock ? holdPrelude(lock, applyNonce) : undefined), options.abort ? { signal: options.abort } : {});
    if (lock) checkHeld(applyNonce, result.stdout);
    const done = parseSections(applyNonce, result.stdout);
    const outcomes = changeOutcomes(changes.length, done, true);
    const applied = countOutcomes(outcomes).made;
    if (applied !== changes.length) {
      const failedIndex = applied;
      const failed = changes[failedIndex];
      const output = done.get(failedIndex)?.stdout ?? unfinishedSection(applyNonce, result.stdout, failedIndex) ?? result.stderr;
      return finish({
        status: 'failed',
        changes,
        applied,
        outcomes,
        error: { kind: 'apply', message: `${failed?.summary ?? 'apply'} failed (exit ${done.get(failedIndex)?.status ?? result.code})`, output: output.trim() },
      });
    }
    return finish({ status: 'changed', changes, applied, outcomes });
  } catch (error) {
    return finish(failure(error, changes, applyNonce));
  } finally {
    session.close();
  }
}

/** A host's result once its pipeline threw: which phase it was in decides what is known. */
function failure(error: unknown, changes: readonly PlannedChange[], applyNonce: string | undefined): Omit<HostResult, 'host' | 'stats' | 'seconds'> {
  const applying = applyNonce !== undefined;
  const cut = (stdout: string): ChangeOutcome[] => changeOutcomes(changes.length, parseSections(applyNonce ?? '', stdout), false);
  if (error instanceof ExecAbortedError) {
    if (!applying) return { status: 'interrupted', interrupted: 'before-apply', changes, applied: 0 };
    const outcomes = cut(error.stdout);
    return { status: 'interrupted', interrupted: 'mid-wave', changes, applied: countOutcomes(outcomes).made, outcomes };
  }
  if (error instanceof ConnectionLostError) {
    if (!applying) return { status: 'failed', changes, applied: 0, error: { kind: 'connection', message: `connection lost during read (${error.message}); nothing was changed` } };
    const outcomes = cut(error.stdout);
    const counts = countOutcomes(outcomes);
    return {
      status: 'failed',
      changes,
      applied: counts.made,
      outcomes,
      error: { kind: 'connection', message: `connection lost during apply (${error.message}): ${counts.made} change(s) made, ${counts.unknown} unknown (the host may have made them)` },
    };
  }
  const kind = error instanceof ApplyError ? 'apply' : error instanceof ProbeError ? 'probe' : error instanceof LockError ? 'lock' : 'internal';
  return {
    status: 'failed',
    changes,
    applied: 0,
    ...(applying ? { outcomes: changes.map((): ChangeOutcome => 'not-made') } : {}),
    error: { kind, message: (error as Error).message, ...(error instanceof ApplyError ? { output: error.output } : {}) },
  };
}
