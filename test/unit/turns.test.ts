import { describe, expect, it } from 'vitest';
import type { PlannedChange } from '../../src/engine/events.js';
import { turnsOf, WaveTurns, type TurnOutcome } from '../../src/engine/turns.js';

// Hosts whose changes share a turn run their wave one after another; a failed turn holds back the
// hosts after it in that turn, and hosts without a turn never wait.

const change = (turn?: string): PlannedChange => ({ resource: 'service memcached', summary: 'restart memcached', commands: [], task: 't', ...(turn !== undefined ? { turn } : {}) });

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

/** Runs hosts at once, each with its turns and outcome; what ran when, and who was held back why. */
async function runAll(hosts: ReadonlyArray<{ host: string; turns: string[]; outcome?: TurnOutcome }>) {
  const turns = new WaveTurns();
  const log: string[] = [];
  const held: Record<string, string> = {};
  let running = 0;
  let most = 0;
  await Promise.all(
    hosts.map(({ host, turns: names, outcome }) =>
      turns.run(
        host,
        names,
        async () => {
          running++;
          most = Math.max(most, running);
          log.push(`start ${host}`);
          await tick();
          log.push(`end ${host}`);
          running--;
          return outcome ?? 'ok';
        },
        (reason) => {
          held[host] = reason;
        },
      ),
    ),
  );
  return { log, held, most };
}

describe('turns of a wave', () => {
  it('a host takes the turns its changes name, each once, sorted', () => {
    expect(turnsOf([change('session-stores'), change(), change('b'), change('session-stores')])).toEqual(['b', 'session-stores']);
    expect(turnsOf([change(), change()])).toEqual([]);
  });

  it('hosts of one turn run one after another, in the order they came', async () => {
    const { log, most } = await runAll([
      { host: 'rs1', turns: ['session-stores'] },
      { host: 'rs2', turns: ['session-stores'] },
      { host: 'rs3', turns: ['session-stores'] },
    ]);
    expect(most).toBe(1);
    expect(log).toEqual(['start rs1', 'end rs1', 'start rs2', 'end rs2', 'start rs3', 'end rs3']);
  });

  it('hosts without a turn, or of another turn, do not wait', async () => {
    const { log, most } = await runAll([
      { host: 'rs1', turns: ['session-stores'] },
      { host: 'dir1', turns: [] },
      { host: 'cache1', turns: ['other'] },
    ]);
    expect(most).toBe(3);
    expect(log.slice(0, 3).sort()).toEqual(['start cache1', 'start dir1', 'start rs1']);
  });

  it('a failed turn holds back every host after it in that turn, saying which host failed', async () => {
    const { log, held } = await runAll([
      { host: 'rs1', turns: ['session-stores'], outcome: 'failed' },
      { host: 'rs2', turns: ['session-stores'] },
      { host: 'rs3', turns: ['session-stores'] },
      { host: 'cache1', turns: ['other'] },
    ]);
    expect(log.filter((line) => line.startsWith('start'))).toEqual(['start rs1', 'start cache1']);
    expect(Object.keys(held).sort()).toEqual(['rs2', 'rs3']);
    expect(held.rs2).toMatch(/^rs1 failed in its turn \(session-stores\) before this host's/);
  });

  it('two hosts that name two turns in opposite orders never wait for each other (turns are taken sorted)', async () => {
    const turns = new WaveTurns();
    const order: string[] = [];
    const body = (host: string) => async (): Promise<TurnOutcome> => {
      order.push(host);
      await tick();
      return 'ok';
    };
    await Promise.all([turns.run('a', ['x', 'y'], body('a'), () => undefined), turns.run('b', ['y', 'x'], body('b'), () => undefined)]);
    expect(order).toEqual(['a', 'b']);
  });
});
