import { describe, expect, it } from 'vitest';
import { lockAll, type LockAttempt, type LockingHost } from '../../src/lock/lock-all.js';
import type { LockWait } from '../../src/lock/lock-script.js';

// lockAll against an in-memory lock table with the shell lock's semantics (wait-die by age):
// runs that each hold every host until their end, started together with their reads in different
// orders and speeds, must all finish, one at a time per host, with no read timing out.

class LockTable {
  private readonly holders = new Map<string, number>();
  maxHolders = 0;

  holder(host: string): number | undefined {
    return this.holders.get(host);
  }
  take(host: string, age: number): void {
    this.holders.set(host, age);
  }
  free(host: string, age: number): void {
    if (this.holders.get(host) === age) this.holders.delete(host);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class FakeHost implements LockingHost {
  reads = 0;
  releases = 0;
  state: 'new' | 'held' | 'settled' | 'gave-way' = 'new';

  constructor(
    private readonly table: LockTable,
    readonly name: string,
    private readonly age: number,
    private readonly latencyMs: number,
  ) {}

  async read(wait: LockWait, timeoutSeconds: number): Promise<LockAttempt> {
    this.reads += 1;
    await sleep(this.latencyMs);
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const holder = this.table.holder(this.name);
      if (holder === undefined) {
        this.table.take(this.name, this.age);
        this.state = 'held';
        return 'acquired';
      }
      if (wait === 'wait-die' && holder < this.age) {
        this.state = 'gave-way';
        return 'older';
      }
      if (Date.now() >= deadline) {
        this.state = 'settled';
        return 'settled';
      }
      await sleep(2);
    }
  }

  async release(): Promise<void> {
    this.releases += 1;
    await sleep(this.latencyMs);
    this.table.free(this.name, this.age);
    this.state = 'new';
  }

  end(): void {
    this.table.free(this.name, this.age);
  }
}

async function runOnce(table: LockTable, age: number, names: readonly string[], latencies: readonly number[], log: string[]): Promise<FakeHost[]> {
  const hosts = names.map((name, index) => new FakeHost(table, name, age, latencies[index] ?? 1));
  await lockAll(hosts, { forks: 2, timeoutSeconds: 5 });
  // Every host this run holds is its own, for the length of its "waves".
  for (const host of hosts) if (host.state === 'held') log.push(`${age} ${host.name}`);
  await sleep(15);
  for (const host of hosts) host.end();
  return hosts;
}

describe('lockAll', () => {
  it('three runs that each hold every host until their end all finish, none timing out, however their reads race', async () => {
    for (let round = 0; round < 5; round += 1) {
      const table = new LockTable();
      const log: string[] = [];
      const names = ['router', 'rs1', 'rs2', 'director'];
      const runs = await Promise.all([
        runOnce(table, 1, names, [1, 9, 3, 6], log),
        runOnce(table, 2, [...names].reverse(), [4, 1, 8, 2], log),
        runOnce(table, 3, [names[2], names[0], names[3], names[1]] as string[], [2, 5, 1, 7], log),
      ]);
      for (const hosts of runs) expect(hosts.map((host) => host.state)).toEqual(['held', 'held', 'held', 'held']);
      // The oldest run never gives way: one read per host, no release.
      expect(runs[0]?.map((host) => [host.reads, host.releases])).toEqual(names.map(() => [1, 0]));
      expect(log).toHaveLength(12);
    }
  });

  it('a run that meets an older run releases what it holds, waits holding nothing, and reads everything again', async () => {
    const table = new LockTable();
    table.take('rs1', 1);
    const hosts = ['router', 'rs1', 'rs2'].map((name) => new FakeHost(table, name, 2, 1));
    const locking = lockAll(hosts, { forks: 3, timeoutSeconds: 5 });
    await sleep(40);
    // Gave way: router and rs2 released, nothing held while it waits for rs1.
    expect(hosts.map((host) => host.state)).toEqual(['new', 'gave-way', 'new']);
    expect(table.holder('router')).toBeUndefined();
    table.free('rs1', 1);
    expect(await locking).toBe(1);
    expect(hosts.map((host) => [host.state, host.reads, host.releases])).toEqual([
      ['held', 2, 1],
      ['held', 2, 0],
      ['held', 2, 1],
    ]);
  });

  it('gives up on a host still held when the lock timeout runs out, and keeps the others', async () => {
    const table = new LockTable();
    table.take('rs1', 5);
    const hosts = ['router', 'rs1'].map((name) => new FakeHost(table, name, 9, 1));
    await lockAll(hosts, { forks: 2, timeoutSeconds: 0.2 });
    expect(hosts.map((host) => host.state)).toEqual(['held', 'settled']);
  });
});
