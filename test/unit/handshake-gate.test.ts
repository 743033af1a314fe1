import { describe, expect, it } from 'vitest';
import { adjustEveryMs, busyFrom, defaultHandshakeLimit, defaultHandshakeLimits, HandshakeGate, handshakeGate, handshakesPerCore, idleBelow, nextHandshakeLimit, widestOverStart, type LoadGauge } from '../../src/transport/handshake-gate.js';

// The handshake gate as a scheduler: fake connectors that settle when the test says so, a count
// of the handshakes in flight, no timers. A connector is what starts a real handshake (and its
// connect timeout), so "started" below is exactly when ssh2's timer would start.

/** A fake connector per host: records when it starts, settles on demand. */
class FakeHosts {
  inFlight = 0;
  peak = 0;
  started: number[] = [];
  private readonly pending = new Map<number, { resolve: (host: number) => void; reject: (error: Error) => void }>();

  connector(host: number): () => Promise<number> {
    return () => {
      this.inFlight += 1;
      this.peak = Math.max(this.peak, this.inFlight);
      this.started.push(host);
      return new Promise<number>((resolve, reject) => this.pending.set(host, { resolve, reject })).finally(() => {
        this.inFlight -= 1;
      });
    };
  }

  /** Settle the handshakes in flight, `failEvery`th one failing, then let the gate move on. */
  async settleInFlight(failEvery = 0): Promise<number> {
    const hosts = [...this.pending.keys()];
    for (const host of hosts) {
      const handshake = this.pending.get(host);
      this.pending.delete(host);
      if (failEvery > 0 && host % failEvery === 0) handshake?.reject(new Error(`host ${host} refused`));
      else handshake?.resolve(host);
    }
    // The gate hands freed slots on from the settled promises' callbacks: a few microtask turns.
    for (let turn = 0; turn < 10; turn++) await Promise.resolve();
    return hosts.length;
  }
}

async function runAll(gate: HandshakeGate, count: number, failEvery = 0): Promise<{ fake: FakeHosts; outcomes: PromiseSettledResult<number>[]; rounds: number[] }> {
  const fake = new FakeHosts();
  const all = Promise.allSettled(Array.from({ length: count }, (_, host) => gate.run(fake.connector(host))));
  const rounds: number[] = [];
  for (;;) {
    const settled = await fake.settleInFlight(failEvery);
    if (settled === 0) break;
    rounds.push(settled);
    expect(fake.inFlight).toBeLessThanOrEqual(gate.limit);
  }
  return { fake, outcomes: await all, rounds };
}

describe('the handshake gate', () => {
  it('derives its default limit from the cores, and the process-wide gate uses it', () => {
    expect(defaultHandshakeLimit(1)).toBe(Math.max(4, handshakesPerCore));
    expect(defaultHandshakeLimit(2)).toBe(Math.max(4, 2 * handshakesPerCore));
    expect(defaultHandshakeLimit(16)).toBe(16 * handshakesPerCore);
    expect(handshakeGate.limit).toBe(defaultHandshakeLimit());
    expect(handshakeGate.limits).toEqual(defaultHandshakeLimits());
    expect(defaultHandshakeLimits(2)).toEqual({ floor: 8, ceiling: 8 * widestOverStart });
  });

  it('at a fixed size, never starts more handshakes than it allows, and uses all of them', async () => {
    const gate = new HandshakeGate(defaultHandshakeLimit());
    const hosts = 1000;
    const { fake, outcomes, rounds } = await runAll(gate, hosts);
    expect(fake.peak).toBe(gate.limit);
    expect(gate.peak).toBe(gate.limit);
    // Every host got its handshake, once, in the order they queued.
    expect(fake.started).toEqual(Array.from({ length: hosts }, (_, host) => host));
    expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    // Each round the gate was full: as many started as it allows, until the queue ran out.
    expect(rounds.slice(0, -1).every((count) => count === gate.limit)).toBe(true);
    expect(rounds.reduce((sum, count) => sum + count, 0)).toBe(hosts);
  });

  it('frees the slot of a handshake that fails', async () => {
    const gate = new HandshakeGate(3);
    const { fake, outcomes } = await runAll(gate, 20, 2);
    expect(fake.peak).toBe(3);
    expect(fake.started).toHaveLength(20);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toHaveLength(10);
  });

  it('does not start a queued handshake before a slot is free', async () => {
    const gate = new HandshakeGate(2);
    const fake = new FakeHosts();
    const runs = [0, 1, 2, 3].map((host) => gate.run(fake.connector(host)));
    await Promise.resolve();
    // Hosts 2 and 3 are queued: their connectors (and so their connect timers) have not started.
    expect(fake.started).toEqual([0, 1]);
    await fake.settleInFlight();
    expect(fake.started).toEqual([0, 1, 2, 3]);
    await fake.settleInFlight();
    await Promise.all(runs);
  });

  it('counts a connector that throws at once as settled', async () => {
    const gate = new HandshakeGate(1);
    await expect(gate.run(() => Promise.reject(new Error('no key')))).rejects.toThrow('no key');
    await expect(gate.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('admits hosts to connect only near the head of the queue: at 1000 hosts never more than the lookahead connected and waiting', async () => {
    const gate = new HandshakeGate(defaultHandshakeLimit());
    const fake = new FakeHosts();
    let waiting = 0;
    let peakWaiting = 0;
    // A host as openClient runs it: admitted, connected (at once here), queued for a slot, its admission ended by the slot.
    const host = async (index: number): Promise<number> => {
      const leave = await gate.admit();
      waiting += 1;
      peakWaiting = Math.max(peakWaiting, waiting);
      return gate.run(() => {
        waiting -= 1;
        leave();
        return fake.connector(index)();
      });
    };
    const all = Promise.allSettled(Array.from({ length: 1000 }, (_, index) => host(index)));
    for (let turn = 0; turn < 10; turn++) await Promise.resolve();
    // Before any handshake settles: the gate's handshakes, and as many more connected behind them.
    expect([fake.inFlight, waiting]).toEqual([gate.limit, gate.lookahead]);
    while ((await fake.settleInFlight()) > 0) expect(fake.inFlight).toBeLessThanOrEqual(gate.limit);
    const outcomes = await all;
    expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(fake.started).toEqual(Array.from({ length: 1000 }, (_, index) => index));
    expect(peakWaiting).toBe(gate.lookahead);
  });

  it('a host whose admission ended (its connect failed or is slow) lets the next one in, once', async () => {
    const gate = new HandshakeGate(1, 2);
    const order: number[] = [];
    const leaves = await Promise.all([gate.admit(), gate.admit()]);
    const third = gate.admit().then((leave) => (order.push(3), leave));
    const fourth = gate.admit().then((leave) => (order.push(4), leave));
    await Promise.resolve();
    expect(order).toEqual([]);
    leaves[0]?.();
    leaves[0]?.();
    for (let turn = 0; turn < 5; turn++) await Promise.resolve();
    expect(order).toEqual([3]);
    leaves[1]?.();
    (await third)();
    (await fourth)();
    expect(order).toEqual([3, 4]);
  });

  it('lets a waiter whose signal aborts leave the queue at once, holding nothing, the others served as before', async () => {
    const gate = new HandshakeGate(1, 1);
    let release: () => void = () => undefined;
    const holder = gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    const leaving = new AbortController();
    const order: string[] = [];
    const left = gate.run(async () => void order.push('left'), leaving.signal).catch((error: Error) => order.push(error.name));
    const next = gate.run(async () => void order.push('next'));
    const admitted = await gate.admit();
    const leavingAdmission = gate.admit(leaving.signal).catch((error: Error) => order.push(`admit ${error.name}`));
    leaving.abort();
    await left;
    await leavingAdmission;
    expect(order).toEqual(['GateLeft', 'admit GateLeft']);
    release();
    await holder;
    await next;
    expect(order).toEqual(['GateLeft', 'admit GateLeft', 'next']);
    // The slot went to the next waiter and came back: one more runs at once.
    await gate.run(async () => void order.push('after'));
    expect(order.at(-1)).toBe('after');
    // The admission left no count behind either: with the first one ended, the next is let in at once.
    admitted();
    const again = await gate.admit();
    // A waiter whose signal had aborted before it came never joins the queue.
    await expect(gate.admit(AbortSignal.abort())).rejects.toThrow('left the handshake queue');
    again();
    (await gate.admit())();
  });

  it('widens by half while hosts queue and the event loop was mostly idle, narrows by a quarter when it was busy, within its limits', () => {
    const limits = { floor: 8, ceiling: 128 };
    const cases: Array<[limit: number, utilization: number, queued: boolean, next: number]> = [
      [8, 0.05, true, 12],
      [12, idleBelow - 0.01, true, 18],
      [100, 0.1, true, 128],
      [128, 0.1, true, 128],
      // Nobody waits: an idle loop says nothing about the network.
      [8, 0.05, false, 8],
      // Between idle and busy: as it is.
      [20, idleBelow, true, 20],
      [20, busyFrom - 0.01, true, 20],
      [20, busyFrom, true, 15],
      [20, 1, false, 15],
      [9, 0.99, true, 8],
      [8, 1, true, 8],
    ];
    for (const [limit, utilization, queued, next] of cases) expect(nextHandshakeLimit(limit, limits, utilization, queued), `${limit} at ${utilization}${queued ? ', hosts queued' : ''}`).toBe(next);
  });

  /** A gauge whose busy share and clock the test sets. */
  function steppedGauge(): LoadGauge & { share: number; time: number } {
    return {
      share: 0,
      time: 0,
      now() {
        return this.time;
      },
      utilization() {
        return this.share;
      },
    };
  }

  it('with the default policy, never starts more handshakes than its limit of the moment or its ceiling; widens while the loop idles, narrows once busy', async () => {
    const gauge = steppedGauge();
    const gate = new HandshakeGate(defaultHandshakeLimits(2), undefined, gauge);
    const fake = new FakeHosts();
    const overLimit: number[] = [];
    const host = async (index: number): Promise<number> => {
      const leave = await gate.admit();
      return gate.run(() => {
        leave();
        // Checked as each handshake starts: the limit may narrow under those already in flight.
        if (fake.inFlight + 1 > gate.limit) overLimit.push(index);
        return fake.connector(index)();
      });
    };
    const hosts = 1000;
    const all = Promise.allSettled(Array.from({ length: hosts }, (_, index) => host(index)));
    for (let turn = 0; turn < 10; turn++) await Promise.resolve();
    expect(fake.inFlight).toBe(8);
    const inFlight: number[] = [];
    for (let round = 0; round < 8; round++) {
      // A window passes while these handshakes are in flight; many settle within one.
      gauge.time += adjustEveryMs;
      await fake.settleInFlight();
      inFlight.push(fake.inFlight);
    }
    // Idle: half again each window, up to the ceiling and no further.
    expect(inFlight).toEqual([12, 18, 27, 41, 62, 64, 64, 64]);
    gauge.share = 1;
    const narrowing: number[] = [];
    for (let round = 0; round < 6; round++) {
      gauge.time += adjustEveryMs;
      await fake.settleInFlight();
      narrowing.push(fake.inFlight);
    }
    expect(narrowing).toEqual([48, 36, 27, 20, 15, 11]);
    do gauge.time += adjustEveryMs;
    while ((await fake.settleInFlight()) > 0);
    const outcomes = await all;
    expect(outcomes.every((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(fake.started).toEqual(Array.from({ length: hosts }, (_, index) => index));
    expect(overLimit).toEqual([]);
    // Busy to the end: back where it started, never below.
    expect([gate.peak, gate.widest, gate.limit]).toEqual([64, 64, 8]);
  });

  it('a gate of a fixed size never reads the load', async () => {
    const gauge = steppedGauge();
    let reads = 0;
    const gate = new HandshakeGate(4, undefined, { now: () => (reads += 1), utilization: () => 0 });
    const { fake } = await runAll(gate, 40);
    expect([fake.peak, gate.widest, reads, gauge.share]).toEqual([4, 4, 0, 0]);
  });
});
