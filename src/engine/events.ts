import type { Change, ChangePhase, RealServerRef, ResourceNote } from '../resources/types.js';
import type { SessionStats } from '../transport/types.js';

// The engine reports progress as events and knows nothing of terminals; the CLI renders them.

export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'interrupted';

/**
 * What became of one planned change: `unknown` when the connection went (or the run was stopped)
 * while the script that carries it ran, so the host may or may not have made it.
 */
export type ChangeOutcome = 'made' | 'failed' | 'not-made' | 'unknown';

/**
 * Where an interrupt left a host: `before-apply` nothing was changed; `between-waves` the waves it
 * began all finished; `mid-wave` a second interrupt stopped a running script: may be half-applied.
 */
export type Interruption = 'before-apply' | 'between-waves' | 'mid-wave';

/** The host lock, when this run had to wait for another run's. */
export interface LockWait {
  readonly waitedSeconds: number;
  /** Who held it, as `lvsprov pid N on HOST, started T`. */
  readonly heldBy?: string;
}

export interface PlannedChange extends Change {
  /** The task that planned it. */
  readonly task: string;
  readonly role?: string;
  /** A VIP's removal moved to balance because these hosts announce it there (vip-handover.ts), and the wave it had. */
  readonly handedOver?: { readonly to: readonly string[]; readonly phase: ChangePhase };
  /**
   * A VIP's add or announce on the director that takes it over: it runs in a second exec of the
   * balance wave, once every host of `from` let `address` go (vip-handover.ts).
   */
  readonly awaitsRelease?: { readonly address: string; readonly from: readonly string[] };
  /**
   * On a director's change to its firewall marks that leaves addresses unmarked for a fwmark
   * service it keeps: that service's servers, each with those addresses alone as its `vips`
   * (mark-vips.ts). The kernel finds an established connection without its mark, so those made
   * before live on, while the address stays on this director and the real server; where the run
   * takes it off a host after balance, this director drains them first (wave-plan.ts).
   */
  readonly unmarks?: readonly RealServerRef[];
}

/** A change planned but not run because another host was not ready for it. */
export interface HeldBackChange {
  readonly summary: string;
  readonly task: string;
  readonly role?: string;
  readonly phase: ChangePhase;
  readonly reason: string;
}

/** How one leaving real server drained on a director. */
export interface DrainResult extends RealServerRef {
  /** Active connections at the last poll: 0 when drained, what the deletion cut after a timeout. */
  readonly active: number;
  readonly drained: boolean;
  readonly seconds: number;
}

export interface HostResult {
  readonly host: string;
  readonly status: HostStatus;
  /** Every change the plan contained, in wave order (in check mode: what would be done). */
  readonly changes: readonly PlannedChange[];
  /** How many of them were applied (0 in check mode). */
  readonly applied: number;
  /** Changes not run because a host they depend on failed (see hold-back.ts); absent when none. */
  readonly heldBack?: readonly HeldBackChange[];
  /** What the read found that is no change (e.g. a real server down by its health check); absent when nothing. */
  readonly notes?: readonly ResourceNote[];
  /** On a director with leaving real servers: how each drained; absent otherwise. */
  readonly drains?: readonly DrainResult[];
  /** One per change, once an apply was attempted (absent in check mode and for unchanged hosts). */
  readonly outcomes?: readonly ChangeOutcome[];
  readonly interrupted?: Interruption;
  readonly lock?: LockWait;
  readonly error?: { readonly kind: string; readonly message: string; readonly task?: string; readonly output?: string };
  readonly stats: Readonly<SessionStats>;
  readonly seconds: number;
}

export type EngineEvent =
  | { readonly type: 'host-start'; readonly host: string }
  | { readonly type: 'host-phase'; readonly host: string; readonly phase: 'connecting' | 'reading' | 'planning' | 'applying' | 'draining'; readonly wave?: ChangePhase }
  | { readonly type: 'wave-start'; readonly phase: ChangePhase; readonly hosts: readonly string[] }
  | { readonly type: 'host-planned'; readonly host: string; readonly changes: number }
  | { readonly type: 'host-lock-waited'; readonly host: string; readonly wait: LockWait }
  | { readonly type: 'host-done'; readonly result: HostResult };

export type EventSink = (event: EngineEvent) => void;
