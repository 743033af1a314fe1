import type { Change } from '../resources/types.js';

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
}

export interface HostResult {
  readonly host: string;
  readonly status: HostStatus;
  /** Every change the plan contained (in check mode: what would be done). */
  readonly changes: readonly PlannedChange[];
  /** How many of them were applied (0 in check mode). */
  readonly applied: number;
  /** One per change, once an apply was attempted (absent in check mode and for unchanged hosts). */
  readonly outcomes?: readonly ChangeOutcome[];
  readonly interrupted?: Interruption;
  readonly lock?: LockWait;
  readonly error?: { readonly kind: string; readonly message: string; readonly task?: string; readonly output?: string };
  readonly stats: { readonly connections: number; readonly execs: number };
  readonly seconds: number;
}

export type EngineEvent =
  | { readonly type: 'host-start'; readonly host: string }
  | { readonly type: 'host-phase'; readonly host: string; readonly phase: 'connecting' | 'reading' | 'planning' | 'applying' }
  | { readonly type: 'host-planned'; readonly host: string; readonly changes: number }
  | { readonly type: 'host-lock-waited'; readonly host: string; readonly wait: LockWait }
  | { readonly type: 'host-done'; readonly result: HostResult };

export type EventSink = (event: EngineEvent) => void;
