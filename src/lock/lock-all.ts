import { forEachLimited } from '../engine/pool.js';
import type { LockWait } from './lock-script.js';

// Locking every host of a run that holds them all until its last wave, without two runs ever
// waiting for each other. Each read takes its host's lock by wait-die: a run waits for a younger
// holder, and gives way at once to an older one. A run that met an older holder releases every
// lock it took (so the older run can finish), then waits for that one host holding nothing, and
// tries the others again. Waits only ever go from older to younger runs, so no cycle can form;
// the oldest run never gives way, so every run ends.

/** What a host's read did with its lock. */
export type LockAttempt =
  /** Locked and read: the host takes part in the run. */
  | 'acquired'
  /** Held by an older run: this run must give way. */
  | 'older'
  /** Nothing more to do for it: it failed (unreachable, timed out waiting, read failed) or was stopped. */
  | 'settled';

export interface LockingHost {
  /** One read exec that takes the lock first, waiting as told, at most `timeoutSeconds`. */
  read(wait: LockWait, timeoutSeconds: number): Promise<LockAttempt>;
  /** Give the lock up (one exec); its read is void and is done again later. */
  release(): Promise<void>;
}

export interface LockAllOptions {
  readonly forks: number;
  /** The whole wait for other runs, across every retry. */
  readonly timeoutSeconds: number;
  /** Stop retrying (an interrupt): hosts not locked by then are left as they are. */
  readonly signal?: AbortSignal;
  /** Milliseconds; tests pass their own clock. */
  readonly now?: () => number;
}

/** Read every host under its lock; resolves when each is acquired or settled. Returns the retries. */
export async function lockAll(hosts: readonly LockingHost[], options: LockAllOptions): Promise<number> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutSeconds * 1000;
  const remaining = (): number => Math.max(0, (deadline - now()) / 1000);
  const held = new Set<LockingHost>();
  let pending = [...hosts];
  let first: LockingHost | undefined;
  let retries = 0;
  for (;;) {
    if (first) {
      // Holding nothing, this run may wait for anyone without closing a cycle.
      const attempt = await first.read('wait', remaining());
      if (attempt === 'acquired') held.add(first);
      pending = pending.filter((host) => host !== first);
    }
    const givingWay: LockingHost[] = [];
    await forEachLimited(pending, options.forks, async (host) => {
      const attempt = await host.read('wait-die', remaining());
      if (attempt === 'acquired') held.add(host);
      else if (attempt === 'older') givingWay.push(host);
    });
    if (givingWay.length === 0 || options.signal?.aborted) return retries;
    retries += 1;
    const toRetry = [...held, ...givingWay];
    await forEachLimited([...held], options.forks, (host) => host.release());
    held.clear();
    first = givingWay[0];
    pending = toRetry;
  }
}
