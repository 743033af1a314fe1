import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';

// Setting up an SSH connection costs the control node CPU (key exchange, the signature, ssh2's
// packet handling in JavaScript); an established session mostly waits on its host. Started all at
// once, a thousand handshakes share two cores and each takes a thousand times longer, until the
// connect timeout calls healthy hosts unreachable. So handshakes pass through a gate sized to the
// machine, while established sessions (reads, applies, held connections) are not limited by it.
// The handshake's timer starts when it passes the gate: the connect timeout measures the network
// and the host, not the queue in front of the gate.
//
// A handshake is four round trips and a few milliseconds of CPU. Where the round trip is long (a
// remote site, a jump host), a gate of a few slots a core leaves the control node idle while its
// slots wait on the network: at 50 ms a slot is busy about 200 ms for 7 ms of CPU, and eight
// slots let 40 hosts a second in where the CPU could take 140. So the gate widens while hosts
// wait for a slot and the event loop (where ssh2 runs every handshake) had time to spare, and
// narrows again, never below where it started, once the loop is near full: it follows the CPU it
// protects, not a guess of the network.

/**
 * Handshakes in flight per core at the start. Each spends most of its time waiting for the network
 * or the host's sshd, so a few per core keep the cores busy without letting any wait long for CPU.
 */
export const handshakesPerCore = 4;

/**
 * How many times its start the gate may widen to: 64 on two cores. Their handshakes' CPU (about 7
 * ms each) stays under half a second however they bunch up, far inside any connect timeout, and
 * at 50 ms round trips 64 slots let about 240 hosts a second in, more than two cores can take; each
 * handshake in flight holds its buffers too (a 1000-host first apply whose gate grew to 104 peaked
 * at 293 MiB, against 270 at 8).
 */
export const widestOverStart = 8;

/** The default limit at the start: scales with the cores this process may use, never below 4. */
export function defaultHandshakeLimit(cores: number = availableParallelism()): number {
  return Math.max(4, cores * handshakesPerCore);
}

/** The least and the most handshakes the gate lets be in flight at once. */
export interface HandshakeLimits {
  readonly floor: number;
  readonly ceiling: number;
}

export function defaultHandshakeLimits(cores: number = availableParallelism()): HandshakeLimits {
  const floor = defaultHandshakeLimit(cores);
  return { floor, ceiling: floor * widestOverStart };
}

/**
 * The event loop's busy share over a window below which the gate widens (while hosts queue), and
 * from which it narrows: room for half as many handshakes again below the first, a loop near full
 * at the second. Eight slots over 50 ms round trips keep it about 30% busy.
 */
export const idleBelow = 0.7;
export const busyFrom = 0.9;
/** How often at most the gate changes its limit: a window long enough for the share to mean something. */
export const adjustEveryMs = 100;

/**
 * The gate's next limit, from the event loop's busy share over the last window: half as wide
 * again while hosts queue and the loop had room (their handshakes wait on the network, not on
 * this CPU), a quarter narrower when it was near full, unchanged between. Within `limits` always.
 */
export function nextHandshakeLimit(limit: number, limits: HandshakeLimits, utilization: number, hostsQueued: boolean): number {
  if (utilization >= busyFrom) return Math.max(limits.floor, Math.floor((limit * 3) / 4));
  if (hostsQueued && utilization < idleBelow) return Math.min(limits.ceiling, Math.ceil((limit * 3) / 2));
  return limit;
}

/** What the gate reads time and the event loop's busy share from; tests give their own. */
export interface LoadGauge {
  now(): number;
  /** The event loop's busy share (0..1) since the previous call. */
  utilization(): number;
}

function eventLoopGauge(): LoadGauge {
  let previous = performance.eventLoopUtilization();
  return {
    now: () => performance.now(),
    utilization: () => {
      const current = performance.eventLoopUtilization();
      const share = performance.eventLoopUtilization(current, previous).utilization;
      previous = current;
      return share;
    },
  };
}

export class HandshakeGate {
  private inFlight = 0;
  private peakInFlight = 0;
  private widestLimit: number;
  private current: number;
  private readonly waiting: Array<() => void> = [];
  private admitted = 0;
  private readonly admitting: Array<() => void> = [];
  readonly limits: HandshakeLimits;
  private readonly fixedLookahead: number | undefined;
  private readonly gauge: LoadGauge | undefined;
  private adjustedAt = 0;

  /**
   * `limits`: a number is a gate that never changes its size; `{ floor, ceiling }` starts at the
   * floor and adapts (nextHandshakeLimit) between the two, reading `gauge` (the event loop, unless
   * a test gives its own). `lookahead`: how many hosts may be connecting, or connected and waiting
   * for a slot, at once (see admit); by default as many as the gate lets handshake at the time.
   */
  constructor(limits: number | HandshakeLimits, lookahead?: number, gauge?: LoadGauge) {
    this.limits = typeof limits === 'number' ? { floor: limits, ceiling: limits } : limits;
    const { floor, ceiling } = this.limits;
    if (!Number.isInteger(floor) || floor < 1) throw new Error(`handshake limit must be a whole number of at least 1, not ${floor}`);
    if (!Number.isInteger(ceiling) || ceiling < floor) throw new Error(`handshake ceiling must be a whole number of at least the limit ${floor}, not ${ceiling}`);
    if (lookahead !== undefined && (!Number.isInteger(lookahead) || lookahead < 1)) throw new Error(`handshake lookahead must be a whole number of at least 1, not ${lookahead}`);
    this.fixedLookahead = lookahead;
    this.current = floor;
    this.widestLimit = floor;
    this.gauge = ceiling > floor ? (gauge ?? eventLoopGauge()) : undefined;
  }

  /** How many handshakes may be in flight now. */
  get limit(): number {
    return this.current;
  }

  /** How many hosts may be admitted (connecting, or connected and queued for a slot) now. */
  get lookahead(): number {
    return this.fixedLookahead ?? this.current;
  }

  /** The widest the gate has been. */
  get widest(): number {
    return this.widestLimit;
  }

  /**
   * Wait until this host is near the head of the queue, then make its TCP connection: every
   * connection made sooner costs its host an sshd process that waits, and one that waited past
   * the host's LoginGraceTime is made again (ssh-client.ts). Admits hosts in arrival order while
   * fewer than `lookahead` are admitted; the returned function ends the host's admission (it
   * got its handshake slot, its connect failed, or its connect is slow enough that it should not
   * hold the hosts behind it back). Calling it again does nothing.
   */
  async admit(signal?: AbortSignal): Promise<() => void> {
    if (this.admitted >= this.lookahead) await queue(this.admitting, signal);
    else this.admitted += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      // The admission passes straight to the next host, unless the gate narrowed meanwhile.
      const next = this.admitted <= this.lookahead ? this.admitting.shift() : undefined;
      if (next) next();
      else this.admitted -= 1;
    };
  }

  /** The most handshakes that were ever in flight at once. */
  get peak(): number {
    return this.peakInFlight;
  }

  /**
   * Run `handshake` once fewer than `limit` others are in flight; its slot is free again when it
   * settles. Waiters are served in arrival order; one whose `signal` aborts leaves the queue at
   * once (GateLeft), as does one of admit's.
   */
  async run<T>(handshake: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.inFlight >= this.current) await queue(this.waiting, signal);
    else this.inFlight += 1;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      return await handshake();
    } finally {
      this.adapt();
      // The slot passes straight to the next waiter, so no newcomer can overtake it; where the
      // gate narrowed meanwhile, it is given up instead.
      const next = this.inFlight <= this.current ? this.waiting.shift() : undefined;
      if (next) next();
      else this.inFlight -= 1;
      this.widen();
    }
  }

  /** A new limit at most every adjustEveryMs, as a handshake settles (no timer keeps a process alive). */
  private adapt(): void {
    if (!this.gauge) return;
    const now = this.gauge.now();
    if (now - this.adjustedAt < adjustEveryMs) return;
    const utilization = this.gauge.utilization();
    this.adjustedAt = now;
    this.current = nextHandshakeLimit(this.current, this.limits, utilization, this.waiting.length > 0 || this.admitting.length > 0);
    this.widestLimit = Math.max(this.widestLimit, this.current);
  }

  /** Let in as many more queued hosts as a wider limit allows. */
  private widen(): void {
    while (this.inFlight < this.current && this.waiting.length > 0) {
      this.inFlight += 1;
      this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
      this.waiting.shift()?.();
    }
    while (this.admitted < this.lookahead && this.admitting.length > 0) {
      this.admitted += 1;
      this.admitting.shift()?.();
    }
  }
}

/** A waiter whose signal aborted before its turn: it holds nothing and was taken out of the queue. */
export class GateLeft extends Error {
  override name = 'GateLeft';
}

/** Wait in `waiters` until served (the server hands its slot over), or leave it when `signal` aborts. */
function queue(waiters: Array<() => void>, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new GateLeft('left the handshake queue'));
      return;
    }
    const leave = (): void => {
      const index = waiters.indexOf(served);
      if (index >= 0) waiters.splice(index, 1);
      reject(new GateLeft('left the handshake queue'));
    };
    const served = (): void => {
      signal?.removeEventListener('abort', leave);
      resolve();
    };
    waiters.push(served);
    signal?.addEventListener('abort', leave, { once: true });
  });
}

/** The gate every connection of this process goes through: the cores are shared by all of them. */
export const handshakeGate = new HandshakeGate(defaultHandshakeLimits());
