import type { Change } from '../resources/types.js';

// The engine reports progress as events and knows nothing of terminals; the CLI renders them.

export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable';

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
  readonly error?: { readonly kind: string; readonly message: string; readonly task?: string; readonly output?: string };
  readonly stats: { readonly connections: number; readonly execs: number };
  readonly seconds: number;
}

export type EngineEvent =
  | { readonly type: 'host-start'; readonly host: string }
  | { readonly type: 'host-phase'; readonly host: string; readonly phase: 'connecting' | 'reading' | 'planning' | 'applying' }
  | { readonly type: 'host-planned'; readonly host: string; readonly changes: number }
  | { readonly type: 'host-done'; readonly result: HostResult };

export type EventSink = (event: EngineEvent) => void;
