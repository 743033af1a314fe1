import { describe, expect, it } from 'vitest';
import { hostSchema } from '../../src/config/inventory-schema.js';
import { parsePlainHostsInPlace, plainHost } from '../../src/config/plain-hosts.js';
import { hostName } from '../../src/config/values.js';
import { pick, seeded } from '../support/seeded-random.js';

// The hand-checked path for hosts of the common shape must give exactly what zod gives (same
// value, same key order) and must take nothing zod refuses: it is compared with hostSchema (and
// the host-name key schema) on generated hosts, valid and broken.

/** Mostly the first (valid) item, so that many generated hosts are valid ones. */
const mostlyFirst = <T,>(random: () => number, items: readonly T[]): T => (random() < 0.6 ? items[0]! : pick(random, items));

const NAMES = ['host1', 'web-1', 'a', 'constructor', 'toString', '_x', '-x', 'a b', '', 'x'.repeat(63), 'x'.repeat(64), 'é', 'h.1', '1'];
const ADDRESSES: unknown[] = ['198.18.0.1', '203.0.113.10', 'web1.example.org', 'localhost', '203.0.113', '203.0.113.010', '-oProxyCommand=x', 'h:22', '', 12, null, true, ['198.18.0.1'], '256.1.1.1', '2001:db8::1'];
const GROUPS: unknown[] = [undefined, [], ['web'], ['web', 'db'], ['web', 'web'], ['-x'], ['a b'], [1], 'web', null, {}, [null]];
const VARS: unknown[] = [undefined, {}, { note: 'x' }, { dip: '198.18.0.2', n: 1, list: [1, { a: 2 }] }, { 'bad-name': 1 }, { '1x': 1 }, { _ok: null }, null, [], 'x', { constructor: 'c' }];
const EXTRA: Array<[string, unknown] | undefined> = [undefined, undefined, undefined, ['ssh', { port: 2222 }], ['ssh', {}], ['adress', '198.18.0.1'], ['groups2', []], ['vars', undefined]];

function randomEntry(random: () => number): unknown {
  if (random() < 0.05) return pick(random, [null, 'x', [], 1]);
  const entry: Record<string, unknown> = {};
  // Keys in any order: the order written must not change what comes out.
  const parts: Array<[string, unknown]> = [];
  if (random() < 0.95) parts.push(['address', mostlyFirst(random, ADDRESSES)]);
  const groups = mostlyFirst(random, GROUPS);
  if (groups !== undefined) parts.push(['groups', groups]);
  const vars = mostlyFirst(random, VARS);
  if (vars !== undefined) parts.push(['vars', vars]);
  const extra = pick(random, EXTRA);
  if (extra) parts.push(extra);
  if (random() < 0.5) parts.reverse();
  for (const [key, value] of parts) entry[key] = value;
  return entry;
}

describe('hosts of the common shape, checked by hand', () => {
  it('give what zod gives, and only for hosts zod accepts', () => {
    const random = seeded(8);
    let fast = 0;
    let zodOnly = 0;
    for (let round = 0; round < 5000; round += 1) {
      const name = mostlyFirst(random, NAMES);
      const entry = randomEntry(random);
      const byZod = hostSchema.safeParse(entry);
      const nameOk = hostName.safeParse(name).success;
      const byHand = plainHost(name, entry);
      if (byHand === undefined) {
        if (byZod.success && nameOk) zodOnly += 1;
        continue;
      }
      fast += 1;
      expect(nameOk && byZod.success, `${name}: ${JSON.stringify(entry)}`).toBe(true);
      expect(JSON.stringify(byHand)).toBe(JSON.stringify(byZod.data));
      expect(byHand).toStrictEqual(byZod.data);
    }
    // Both ways must have been taken many times, or the comparison proves little.
    expect(fast).toBeGreaterThan(300);
    expect(zodOnly).toBeGreaterThan(100);
  });

  it('gives each host a list of groups of its own, and takes the variables as the document holds them', () => {
    const groups = ['web'];
    const vars = { note: { deep: 1 } };
    const host = plainHost('h1', { address: '198.18.0.1', groups, vars })!;
    expect(host.groups).not.toBe(groups);
    expect(host.vars).toBe(vars);
    expect(plainHost('h2', { address: '198.18.0.2' })!.groups).not.toBe(plainHost('h3', { address: '198.18.0.3' })!.groups);
  });

  it('parses the hosts of the common shape where they stand, in file order, and leaves the rest for zod', () => {
    const b = { address: '198.18.0.2' };
    const a = { address: '198.18.0.1', ssh: { port: 2222 } };
    const c = { address: 'x y' };
    const inventory = { hosts: { b, a, c } };
    const split = parsePlainHostsInPlace(inventory)!;
    expect(split.hosts).toBe(inventory.hosts);
    expect(Object.keys(split.hosts)).toEqual(['b', 'a', 'c']);
    expect(split.hosts).toEqual({ b: { address: '198.18.0.2', groups: [], vars: {} }, a, c });
    expect(split.rest).toEqual({ a, c });
    expect(split.names).toEqual(['b', 'a', 'c']);
    expect(split.entries).toEqual([split.hosts.b, undefined, undefined]);
    expect(parsePlainHostsInPlace({ hosts: null })).toBeNull();
    expect(parsePlainHostsInPlace([])).toBeNull();
  });
});
