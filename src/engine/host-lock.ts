import { LockError } from '../errors.js';
import type { LockOwner } from '../lock/lock-owner.js';
import { describeHolder, parseLockReport, type LockHolder } from '../lock/lock-report.js';
import { acquireLockScript, holdLockScript, releaseLockScript, type LockWait as LockWaitMode } from '../lock/lock-script.js';
import { scriptEnvironment } from '../shell/script-environment.js';
import type { LockWait } from './events.js';

// The host lock as the host pipeline uses it: a prelude for the read exec that takes the lock, a
// prelude for each later exec that proves it is still held, and what their reports mean.

export interface RunLock {
  readonly owner: LockOwner;
  /** How long to wait for another run's lock before failing the host. */
  readonly timeoutSeconds: number;
  readonly leaseSeconds?: number;
}

/** `wait-die` for a run that holds other hosts while it waits (see lock-all.ts). */
export function acquirePrelude(lock: RunLock, nonce: string, wait: LockWaitMode = 'wait', timeoutSeconds = lock.timeoutSeconds): string {
  // The run's shell keeps the lock from here until it exits, when the run closes the connection.
  return acquireLockScript(nonce, lock.owner, {
    wait,
    timeoutSeconds,
    ...(lock.leaseSeconds === undefined ? {} : { leaseSeconds: lock.leaseSeconds }),
  });
}

/** The whole exec that gives the lock up while the connection stays open. */
export function releaseExec(nonce: string): string {
  return `${scriptEnvironment}\n${releaseLockScript(nonce)}\n`;
}

export function holdPrelude(lock: RunLock, nonce: string): string {
  return holdLockScript(nonce, lock.owner, lock.leaseSeconds === undefined ? {} : { leaseSeconds: lock.leaseSeconds });
}

/**
 * What the read exec's lock report means: locked (with the wait, if this run waited), or held by an
 * older run that a `wait-die` read gives way to; throws LockError when the host was not locked. A
 * missing report is left to the read's own checks (the script failed before it, e.g. sudo refused).
 */
export type ReadLock = { readonly state: 'acquired'; readonly wait?: LockWait } | { readonly state: 'older'; readonly holder: LockHolder };

export function readLock(nonce: string, stdout: string, timeoutSeconds: number): ReadLock {
  const report = parseLockReport(nonce, stdout);
  switch (report.state) {
    case 'acquired':
      if (report.waitedSeconds <= 0) return { state: 'acquired' };
      return { state: 'acquired', wait: { waitedSeconds: report.waitedSeconds, ...(report.previous ? { heldBy: describeHolder(report.previous) } : {}) } };
    case 'older':
      return { state: 'older', holder: report.holder };
    case 'timeout':
      throw new LockError(`locked by another run: ${describeHolder(report.holder)}; waited ${report.waitedSeconds.toFixed(0)} s (--lock-timeout ${timeoutSeconds})`);
    case 'self':
      throw new LockError(reachedTwice(report.holder.host ?? '(unnamed)'));
    case 'unsupported':
      throw new LockError(`cannot lock the host: ${report.reason}`);
    default:
      return { state: 'acquired' };
  }
}

/** Why a host is one this run reached already under another name (`host`). */
export function reachedTwice(host: string): string {
  return `this run reached this machine already, as host ${host}: the inventory names one machine twice (two of its addresses, or an address and a DNS name); list it once`;
}

/** Throws LockError when a later exec found the lock no longer this run's. */
export function checkHeld(nonce: string, stdout: string): void {
  const report = parseLockReport(nonce, stdout);
  if (report.state === 'lost') {
    throw new LockError(`lost the host lock before applying (its lease ran out and ${describeHolder(report.holder)} took it); nothing was applied`);
  }
}
