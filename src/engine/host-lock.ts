import { LockError } from '../errors.js';
import type { LockOwner } from '../lock/lock-owner.js';
import { describeHolder, parseLockReport } from '../lock/lock-report.js';
import { acquireLockScript, holdLockScript } from '../lock/lock-script.js';
import type { LockWait } from './events.js';

// The host lock as the host pipeline uses it: a prelude for the read exec that takes the lock, a
// prelude for each later exec that proves it is still held, and what their reports mean.

export interface RunLock {
  readonly owner: LockOwner;
  /** How long to wait for another run's lock before failing the host. */
  readonly timeoutSeconds: number;
  readonly leaseSeconds?: number;
}

export function acquirePrelude(lock: RunLock, nonce: string): string {
  return acquireLockScript(nonce, lock.owner, {
    wait: 'wait',
    timeoutSeconds: lock.timeoutSeconds,
    ...(lock.leaseSeconds === undefined ? {} : { leaseSeconds: lock.leaseSeconds }),
  });
}

export function holdPrelude(lock: RunLock, nonce: string): string {
  return holdLockScript(nonce, lock.owner, lock.leaseSeconds === undefined ? {} : { leaseSeconds: lock.leaseSeconds });
}

/**
 * What the read exec's lock report means: the wait, if this run waited (undefined when it did
 * not); throws LockError when the host was not locked. A missing report is left to the read's own
 * checks (the script failed before it, e.g. sudo refused).
 */
export function acquiredLock(nonce: string, stdout: string, timeoutSeconds: number): LockWait | undefined {
  const report = parseLockReport(nonce, stdout);
  switch (report.state) {
    case 'acquired':
      if (report.waitedSeconds <= 0) return undefined;
      return { waitedSeconds: report.waitedSeconds, ...(report.previous ? { heldBy: describeHolder(report.previous) } : {}) };
    case 'timeout':
    case 'older':
      throw new LockError(`locked by another run: ${describeHolder(report.holder)}; waited ${report.waitedSeconds.toFixed(0)} s (--lock-timeout ${timeoutSeconds})`);
    case 'unsupported':
      throw new LockError(`cannot lock the host: ${report.reason}`);
    default:
      return undefined;
  }
}

/** Throws LockError when a later exec found the lock no longer this run's. */
export function checkHeld(nonce: string, stdout: string): void {
  const report = parseLockReport(nonce, stdout);
  if (report.state === 'lost') {
    throw new LockError(`lost the host lock before applying (its lease ran out and ${describeHolder(report.holder)} took it); nothing was applied`);
  }
}
