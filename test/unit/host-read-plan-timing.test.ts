import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompiledTask } from '../../src/config/compile.js';
import { runWaves } from '../../src/engine/run.js';
import type { HostSession } from '../../src/transport/types.js';
import { LocalSession } from '../support/local-session.js';

// Every host's run is made before the first connection; its read plan (the tasks' probes, the
// ownership manifest's hash) is not: at 1000 hosts building all of them first held the first
// connection back. A task is looked at only once its host is read.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-read-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('read plans', () => {
  it('are built when a host is read, not before any host connects; a host never reached needs none', async () => {
    const looks = new Map<string, number>();
    const total = (): number => [...looks.values()].reduce((sum, count) => sum + count, 0);
    /** A file task whose spec's every read is counted, by host (a read plan reads every spec). */
    const watched = (host: string): CompiledTask[] => [
      new Proxy({ name: 'page', type: 'file', spec: { path: join(dir, `${host}-page`), content: 'up\n', mode: '644', state: 'present' } }, {
        get(target, key, receiver) {
          if (key === 'spec') looks.set(host, (looks.get(host) ?? 0) + 1);
          return Reflect.get(target, key, receiver);
        },
      }) as CompiledTask,
    ];
    const hosts = new Map([['h1', watched('h1')], ['h2', watched('h2')], ['down', watched('down')]]);
    const looksAtConnect: number[] = [];
    const connect = async (host: string): Promise<HostSession> => {
      looksAtConnect.push(total());
      if (host === 'down') throw new Error('connection refused');
      return new LocalSession();
    };
    const summary = await runWaves({ hosts, realServers: new Map() }, connect, { check: false }, () => undefined);
    expect(looksAtConnect).toEqual([0, 0, 0]);
    expect(summary.results.map((result) => [result.host, result.status])).toEqual([['h1', 'changed'], ['h2', 'changed'], ['down', 'unreachable']]);
    expect(looks.get('h1')).toBeGreaterThan(0);
    expect(looks.get('h2')).toBe(looks.get('h1'));
    expect(looks.get('down')).toBeUndefined();
  });
});
