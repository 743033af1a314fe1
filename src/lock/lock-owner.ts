import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

// Who a run is, as the lock on every host records it, so that a waiting run can say who holds a
// host, and so that two runs agree which of them is older.

export interface LockOwner {
  /** Random per run: later execs prove the lock is still theirs with it. */
  readonly run: string;
  /** The control host's name, reduced to characters that need no quoting anywhere. */
  readonly control: string;
  readonly pid: number;
  /** ISO 8601, UTC, whole seconds. */
  readonly started: string;
  /**
   * Orders runs: the smaller is older. The start time in milliseconds, times 1000, plus the pid
   * modulo 1000, so that two runs started in the same millisecond still differ.
   */
  readonly age: number;
  /**
   * The inventory name the run reaches this host by (each host's lock has its own): a run that
   * finds its own lock on a machine names the host that took it (one machine under two names).
   */
  readonly host?: string;
}

export function lockOwner(now: Date = new Date(), pid: number = process.pid, control: string = hostname()): LockOwner {
  return {
    run: randomBytes(8).toString('hex'),
    control: control.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'unknown',
    pid,
    started: now.toISOString().replace(/\.\d+Z$/, 'Z'),
    age: now.getTime() * 1000 + (pid % 1000),
  };
}
