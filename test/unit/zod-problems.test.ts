import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadInventory } from '../../src/config/inventory.js';

// Schema issues become one worded problem per mistake, whichever zod checks raised it.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-zod-problems-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(text: string): string[] {
  const file = join(dir, 'inventory.yaml');
  writeFileSync(file, text);
  try {
    loadInventory(file);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((problem) => `${problem.line}:${problem.col}: ${problem.path}: ${problem.message}`);
    throw error;
  }
  return [];
}

describe('a number beyond 2^53', () => {
  it('is one problem in lvsprov words, not also zod\'s "Too big: expected int"', () => {
    const text = `hosts:
  rs1: { address: 192.0.2.11 }
lvs:
  vips: { web: { address: 198.51.100.50 } }
  services:
    - { vip: web, port: 80, real_servers: [{ host: rs1, weight: 99999999999999999999 }] }
`;
    expect(problemsOf(text)).toEqual(['6:65: lvs.services.0.real_servers.0.weight: expected an integer 0-65535, got 100000000000000000000']);
  });
});
