import { availableParallelism } from 'node:os';

// Setting up an SSH connection costs the control node CPU (key exchange, the signature, ssh2's
// packet handling in JavaScript); an established session mostly waits on its host. Started all at
// once, a thousand handshakes share two cores and each takes a thousand times longer, until the
// connect timeout calls healthy hosts unreachable. So handshakes pass through a gate sized to the
// machine, while established sessions (reads, applies, held connections) are not limited by it.
// The handshake's timer starts when it passes the gate: the connect timeout measures the network
// and the host, not the queue in front of the gate.

/**
 * Handshakes in flight per core. Each spends most of its time waiting for the network or the
 * host's sshd, so a few per core keep the cores busy without letting any wait long for CPU.
 */
export const handshakesPerCore = 4;

/** The default limit: scales with the cores this process may use, never below 4. */
export function defaultHandshakeLimit(cores: number = availableParallelism()): number {
  return Math.max(4, cores * handshakesPerCore);
}

export class HandshakeGate {
  private inFlight = 0;
  private peakInFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private admitted = 0;
  private readonly admitting: Array<() => void> = [];

  /**
   * `lookahead`: how many hosts may be connecting, or connected and waiting for a slot, at once
   * (see admit); by default as many as the gate lets handshake.
   */
  constructor(
    readonly limit: number,
    readonly lookahead: number = limit,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`handshake limit must be a whole number of at least 1, not ${limit}`);
    if (!Number.isInteger(lookahead) || lookahead < 1) throw new Error(`handshake lookahead must be a whole number of at least 1, not ${lookahead}`);
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
      const next = this.admitting.shift();
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
    if (this.inFlight >= this.limit) await queue(this.waiting, signal);
    else this.inFlight += 1;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      return await handshake();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so no newcomer can overtake it.
      if (next) next();
      else this.inFlight -= 1;
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
export const handshakeGate = new HandshakeGate(defaultHandshakeLimit());
