import type { Outage } from './outage.js';
import type { FailoverPhase, PhaseKind } from './report.js';

// The verdict on one measured phase of the drill: the longest gap within --max-gap, no request
// failed once answers came back, and exactly the expected director holding the VIPs.

export interface PhaseInput {
  readonly kind: PhaseKind;
  readonly action: string;
  readonly expected: string;
  readonly vips: readonly string[];
  /** The client's clock when the action was taken: figures count from it. */
  readonly actionAt: number;
  /** Client-clock time at which the expected holder had the VIPs (also the outage's switchedAt). */
  readonly heldAt?: number;
  /** Why the wait for the holder or for an answer ended without it. */
  readonly waitProblem?: string;
  readonly seen: Outage;
  readonly holders: readonly string[];
  readonly maxGapMs: number;
  /** The time between two requests of the stream: a silence before the action longer than a few of them is said. */
  readonly intervalMs?: number;
}

/** A silence before the action this many request intervals long says the traffic was already failing. */
const QUIET_INTERVALS = 3;

const seconds = (ms: number): number => Math.round(ms) / 1000;
export const formatSeconds = (value: number): string => `${value.toFixed(2)} s`;

export function judgePhase(input: PhaseInput): FailoverPhase {
  const { seen } = input;
  const problems: string[] = [];
  if (input.waitProblem) problems.push(input.waitProblem);
  if (seen.gapMs > input.maxGapMs) problems.push(`longest gap ${formatSeconds(seen.gapMs / 1000)} exceeds --max-gap ${input.maxGapMs / 1000} s`);
  if (!seen.answeredAfter) problems.push(`no request was answered after ${input.action}`);
  // The handover is over once answers came back and the new holder had the VIPs (`outage`'s
  // switchedAt, given by the caller): a request reset in flight before that is not held against it.
  const late = seen.failedAfterHandover;
  if (late.length > 0) {
    const reasons = [...new Set(late.map((record) => record.detail))].join('; ');
    problems.push(`${late.length} request(s) failed after the handover completed (${reasons})`);
  }
  const vips = input.vips.join(', ');
  if (input.holders.length === 0) problems.push(`no director holds ${vips}: no VRRP master`);
  else if (input.holders.length > 1) problems.push(`split brain: ${input.holders.join(' and ')} hold ${vips} at once`);
  else if (input.holders[0] !== input.expected) problems.push(`${input.holders[0]} holds ${vips}, not ${input.expected} as VRRP should have chosen`);
  return {
    kind: input.kind,
    action: input.action,
    expected: input.expected,
    ...(input.heldAt !== undefined ? { heldAfterSeconds: seconds(input.heldAt - input.actionAt) } : {}),
    gapSeconds: seconds(seen.gapMs),
    gapFromSeconds: seconds(seen.lastBefore - input.actionAt),
    gapToSeconds: seconds(seen.firstAfter - input.actionAt),
    ...(seen.quietBeforeMs !== undefined && input.intervalMs !== undefined && seen.quietBeforeMs > QUIET_INTERVALS * input.intervalMs ? { quietBeforeSeconds: seconds(seen.quietBeforeMs) } : {}),
    sent: seen.total,
    failed: seen.failed.length,
    handoverCompletedSeconds: seconds(seen.completedAt - input.actionAt),
    failedAfterHandover: late.length,
    lateFailures: late.slice(0, 20).map((record) => ({ sentSeconds: seconds(record.sent - input.actionAt), endedSeconds: seconds(record.done - input.actionAt), reason: record.detail })),
    reasons: [...new Set(seen.failed.map((record) => record.detail))],
    holders: input.holders,
    status: problems.length === 0 ? 'pass' : 'fail',
    problems,
  };
}
