import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/config/inventory.js';
import { problemsOf } from '../support/config-problems.js';

// Host endpoints are unique: an address may repeat only through a jump host or another SSH port.
// Most hosts are compared as IPv4 numbers and the rest as strings; both kinds of duplicate, and
// the allowed repeats, are checked here with their exact messages.

const work = mkdtempSync(join(tmpdir(), 'lvsprov-unique-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function problems(hosts: string[]): string[] {
  const file = join(work, `inventory-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `hosts:\n${hosts.map((line) => `  ${line}\n`).join('')}`);
  try {
    loadInventory(file);
    return [];
  } catch {
    return problemsOf(() => loadInventory(file)).map((problem) => problem.slice(file.length + 1));
  }
}

describe('unique host endpoints', () => {
  it.each([
    ['two IPv4 hosts', ['a: { address: 198.18.0.1 }', 'b: { address: 198.18.0.2 }', 'c: { address: 198.18.0.1 }'], ['4:17: hosts.c.address: duplicate host address 198.18.0.1 (also host a)']],
    ['a third holder names the last one', ['a: { address: 198.18.0.1 }', 'b: { address: 198.18.0.1 }', 'c: { address: 198.18.0.1 }'], ['3:17: hosts.b.address: duplicate host address 198.18.0.1 (also host a)', '4:17: hosts.c.address: duplicate host address 198.18.0.1 (also host b)']],
    ['host names', ['a: { address: web.example.org }', 'b: { address: web.example.org }'], ['3:17: hosts.b.address: duplicate host address web.example.org (also host a)']],
    ['empty ssh settings change nothing', ['a: { address: 198.18.0.1 }', 'b: { address: 198.18.0.1, ssh: {} }'], ['3:17: hosts.b.address: duplicate host address 198.18.0.1 (also host a)']],
    ['the same port twice', ['a: { address: 198.18.0.1, ssh: { port: 2222 } }', 'b: { address: 198.18.0.1, ssh: { port: 2222 } }'], ['3:17: hosts.b.address: duplicate host address 198.18.0.1 (also host a)']],
  ])('refuses %s', (_, hosts, expected) => {
    expect(problems(hosts)).toEqual(expected);
  });

  it.each([
    ['different ports', ['a: { address: 198.18.0.1 }', 'b: { address: 198.18.0.1, ssh: { port: 2222 } }']],
    ['a jump host', ['a: { address: 198.18.0.1 }', 'b: { address: 198.18.0.1, ssh: { jump: { address: 198.18.1.1 } } }']],
    ['an address and a name', ['a: { address: 198.18.0.1 }', 'b: { address: web.example.org }']],
    // The lowest and highest addresses a host may have (0.0.0.0/8 and 224.0.0.0 up are no machine's).
    ['neighbouring addresses', ['a: { address: 198.18.0.255 }', 'b: { address: 198.18.1.0 }', 'c: { address: 1.0.0.0 }', 'd: { address: 223.255.255.255 }']],
  ])('allows %s', (_, hosts) => {
    expect(problems(hosts)).toEqual([]);
  });
});
