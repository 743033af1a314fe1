import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arptables, type ArptablesFacts } from '../../src/resources/arptables.js';
import type { Change } from '../../src/resources/types.js';
import { checked, converge, createNetns, deleteNetns, inNetns, isRoot, probe, requireRoot } from './resource-netns.js';

// reset of a TUN real server's ARP rules with the real arptables, in a namespace of its own: the
// listed rules go and a rule lvsprov never listed stays, with the save file mirroring it; with no
// rule left at all, the save file goes too.

const ns = `lvsres2-arr-${process.pid}`;
const foreign = '-A INPUT -j ACCEPT -i eth9 ';

describe('arptables reset in a network namespace', () => {
  let dir = '';
  const spec = () =>
    arptables.schema.parse({
      save_file: join(dir, 'arptables.rules'),
      rules: [
        { chain: 'INPUT', destination: '198.51.100.50', target: 'DROP' },
        { chain: 'OUTPUT', source: '198.51.100.50', target: 'mangle', mangle_source: '192.0.2.11' },
      ],
    });
  const saved = () => checked(inNetns(ns, 'arptables-save'), 'arptables-save');
  const reset = (): Change[] => {
    const changes = arptables.reset?.plan(spec(), probe(arptables, spec(), ns) as ArptablesFacts, { host: ns }) ?? [];
    checked(inNetns(ns, ['set -e', ...changes.flatMap((change) => change.commands)].join('\n')), 'reset');
    return changes;
  };

  beforeAll(() => {
    if (!isRoot) return;
    dir = mkdtempSync(join(tmpdir(), 'lvsres2-arr-'));
    createNetns(ns);
    checked(inNetns(ns, 'arptables -A INPUT -i eth9 -j ACCEPT'), 'foreign rule');
  });

  afterAll(() => {
    if (!isRoot) return;
    deleteNetns(ns);
    rmSync(dir, { recursive: true, force: true });
  });

  it('removes the listed rules beside a foreign one and saves what remains', (ctx) => {
    requireRoot(ctx);
    expect(converge(arptables, spec(), ns).apply.status).toBe(0);
    expect(reset().map((change) => change.summary)).toEqual([
      'delete INPUT -d 198.51.100.50 -j DROP',
      'delete OUTPUT -s 198.51.100.50 -j mangle --mangle-ip-s 192.0.2.11',
      `update ${join(dir, 'arptables.rules')}`,
    ]);
    const now = saved();
    expect(now).not.toContain('198.51.100.50');
    expect(now.split('\n')).toContain(foreign);
    expect(readFileSync(join(dir, 'arptables.rules'), 'utf8')).toBe(now);
    expect(reset()).toEqual([]);
  });

  it('removes the save file once no rule is left', (ctx) => {
    requireRoot(ctx);
    checked(inNetns(ns, 'arptables -D INPUT -i eth9 -j ACCEPT'), 'drop the foreign rule');
    expect(converge(arptables, spec(), ns).apply.status).toBe(0);
    expect(reset().map((change) => change.summary)).toEqual([
      'delete INPUT -d 198.51.100.50 -j DROP',
      'delete OUTPUT -s 198.51.100.50 -j mangle --mangle-ip-s 192.0.2.11',
      `remove ${join(dir, 'arptables.rules')}`,
    ]);
    expect(saved()).not.toContain('-A ');
    expect(existsSync(join(dir, 'arptables.rules'))).toBe(false);
    expect(reset()).toEqual([]);
  });
});
