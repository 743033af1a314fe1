import type { PlannedChange } from '../engine/events.js';
import type { ResourceNote } from '../resources/types.js';
import type { DirectorStatus } from './model.js';
import type { SessionStats } from '../transport/types.js';

// What `lvsprov status` reports, per host: whether it was reached, its drift (the apply
// pipeline stopped after plan) and, for a director, the live IPVS table and its VIPs.

export interface HostDrift {
  /** in-sync: the plan is empty; drift: changes pending; unknown: the plan could not be made. */
  readonly state: 'in-sync' | 'drift' | 'unknown';
  /** `joining`: on a director, the real server a pending change adds to its table. */
  readonly changes: ReadonlyArray<Pick<PlannedChange, 'summary' | 'task' | 'role' | 'joining'>>;
  /** What the read found that is no change, as apply lists it (a real server down by its health check). */
  readonly notes?: readonly ResourceNote[];
  readonly error?: string;
}

export interface HostStatus {
  readonly host: string;
  readonly address: string;
  readonly reachable: boolean;
  readonly error?: string;
  readonly drift?: HostDrift;
  readonly director?: DirectorStatus;
  /** Counted by the transport since the host was first contacted (a watch holds one connection). */
  readonly stats: Readonly<SessionStats>;
}

export interface StatusReport {
  readonly cluster?: string;
  /** ISO time the refresh started. */
  readonly at: string;
  readonly hosts: readonly HostStatus[];
}
