import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arptables } from '../../src/resources/arptables.js';
import { checked, converge, createNetns, deleteNetns, inNetns, isRoot, plan, requireRoot } from './resource-netns.js';

// ARP suppression for a TUN/DR real server in a namespace of its own (arptables rules are per
// namespace): rules appended beside a rule lvsprov does not manage, the save file compared byte
// for byte with what arptables-save then prints and restored into a fresh namespace, and the
// rules removed again by state absent - the foreign rule untouched throughout.

const ns = `lvsres2-arp-${process.pid}`;
const fresh = `lvsres2-arq-${process.pid}`;
const foreign = '-A INPUT -j ACCEPT -i eth9 ';

describe('arptables in a network namespace', () => {
  let dir = '';
  const spec = (state: 'present' | 'absent') =>
    arptables.schema.parse({
      save_file: join(dir, 'arptables.rules'),
      state,
      rules: [
        { chain: 'INPUT', destination: '198.51.100.50', target: 'DROP' },
        { chain: 'OUTPUT', source: '198.51.100.50', target: 'mangle', mangle_source: '192.0.2.11' },
      ],
    });
  const saved = () => checked(inNetns(ns, 'arptables-save'), 'arptables-save');

  beforeAll(() => {
    if (!isRoot) return;
    dir = mkdtempSync(join(tmpdir(), 'lvsres2-arp-'));
    createNetns(ns);
    checked(inNetns(ns, 'arptables -A INPUT -i eth9 -j ACCEPT'), 'foreign rule');
  });

  afterAll(() => {
    if (!isRoot) return;
    deleteNetns(ns);
    deleteNetns(fresh);
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends the missing rules and saves exactly what arptables-save prints', (ctx) => {
    requireRoot(ctx);
    const { changes, apply } = converge(arptables, spec('present'), ns);
    expect(changes.map((change) => change.summary)).toEqual([
      'append INPUT -d 198.51.100.50 -j DROP',
      'append OUTPUT -s 198.51.100.50 -j mangle --mangle-ip-s 192.0.2.11',
      `create ${join(dir, 'arptables.rules')}`,
    ]);
    expect(apply.status, apply.stderr).toBe(0);
    const now = saved();
    expect(now.split('\n')).toContain(foreign);
    expect(readFileSync(join(dir, 'arptables.rules'), 'utf8')).toBe(now);
  });

  it('plans nothing on a second run and never duplicates a rule', (ctx) => {
    requireRoot(ctx);
    expect(plan(arptables, spec('present'), ns)).toEqual([]);
    expect(saved().split('\n').filter((line) => line.includes('198.51.100.50'))).toHaveLength(2);
  });

  it('writes a save file that arptables-restore turns back into the same tables', (ctx) => {
    requireRoot(ctx);
    createNetns(fresh);
    checked(inNetns(fresh, `arptables-restore < '${join(dir, 'arptables.rules')}'`), 'arptables-restore');
    expect(checked(inNetns(fresh, 'arptables-save'), 'arptables-save in the fresh namespace')).toBe(saved());
  });

  it('removes only its own rules when absent, and then plans nothing', (ctx) => {
    requireRoot(ctx);
    const { changes, apply } = converge(arptables, spec('absent'), ns);
    expect(changes.map((change) => change.summary)).toEqual([
      'delete INPUT -d 198.51.100.50 -j DROP',
      'delete OUTPUT -s 198.51.100.50 -j mangle --mangle-ip-s 192.0.2.11',
      `update ${join(dir, 'arptables.rules')}`,
    ]);
    expect(apply.status, apply.stderr).toBe(0);
    const now = saved();
    expect(now).not.toContain('198.51.100.50');
    expect(now.split('\n')).toContain(foreign);
    expect(readFileSync(join(dir, 'arptables.rules'), 'utf8')).toBe(now);
    expect(plan(arptables, spec('absent'), ns)).toEqual([]);
  });
});
