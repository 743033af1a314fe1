import type { HostContact } from '../report.js';

// What `verify --failover` found, as plain data: rendered as text or printed as JSON.

export type PhaseKind = 'failover' | 'return';

export interface FailoverPhase {
  readonly kind: PhaseKind;
  /** What the drill did: `stop keepalived on dir1`. */
  readonly action: string;
  /** The director expected to hold the VIPs at the end of the phase. */
  readonly expected: string;
  /** Seconds from the action until the expected holder held the VIPs alone (absent: it never did). */
  readonly heldAfterSeconds?: number;
  /** The longest time without an answer from the action on, and when it began and ended, in seconds from the action (never before it). */
  readonly gapSeconds: number;
  readonly gapFromSeconds: number;
  readonly gapToSeconds: number;
  /**
   * Seconds without an answer before the action, where requests were already failing or slow when
   * it was taken (more than a few requests' interval): said, not counted in the gap.
   */
  readonly quietBeforeSeconds?: number;
  readonly sent: number;
  readonly failed: number;
  /** Seconds from the action until the handover was complete: answers back and the holder seen alone. */
  readonly handoverCompletedSeconds: number;
  /** Requests sent after that which failed: a complete handover leaves none. */
  readonly failedAfterHandover: number;
  /** The requests that failed after the handover (at most 20), in seconds from the action. */
  readonly lateFailures: ReadonlyArray<{ readonly sentSeconds: number; readonly endedSeconds: number; readonly reason: string }>;
  /** Why requests failed, each reason once. */
  readonly reasons: readonly string[];
  /** Who held the VIPs when the phase was judged. */
  readonly holders: readonly string[];
  readonly status: 'pass' | 'fail';
  readonly problems: readonly string[];
}

export interface FailoverDrill {
  readonly instance: string;
  readonly vips: readonly string[];
  readonly urls: readonly string[];
  readonly master?: string;
  readonly backup?: string;
  readonly preempts?: boolean;
  /** pass / fail: judged; refused: the drill did not start (why in problems); not-run: a host was unreachable or it was interrupted first. */
  readonly status: 'pass' | 'fail' | 'refused' | 'not-run';
  readonly phases: readonly FailoverPhase[];
  readonly problems: readonly string[];
  /** Where the drill left the directors when it could not put them back (keepalived stopped). */
  readonly leftBehind?: string;
}

export interface FailoverReport {
  readonly cluster?: string;
  /** The host that sent the requests. */
  readonly client: string;
  readonly ratePerSecond: number;
  readonly maxGapSeconds: number;
  readonly drills: readonly FailoverDrill[];
  readonly hosts: readonly HostContact[];
  /** One line per failed check; empty when every drill passed. */
  readonly failures: readonly string[];
  readonly unreachable: readonly string[];
  readonly interrupted: boolean;
  readonly seconds: number;
}
