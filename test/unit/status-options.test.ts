import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../support/main-io.js';

// Option combinations status cannot honour are usage errors (exit 4), said before any host is
// contacted (the inventory's hosts are in 192.0.2.0/24, where nothing answers).

const inventory = join(import.meta.dirname, '../fixtures/bad-input/fresh-probes/apply-ssh-config-port/inventory.yaml');

describe('status options', () => {
  it.each([
    [['status', '--count', '2'], /status --count N counts the refreshes of --watch: give --watch SECONDS too/],
    [['status', '--graph', '--watch', '5'], /status --graph --watch needs -o FILE/],
  ])('%j is refused with exit 4', async (args, message) => {
    const result = await runMain([...args, '-i', inventory]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(4);
  });
});
