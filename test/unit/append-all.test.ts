import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendAll } from '../../src/config/append-all.js';

// A loop over 200,000 items (`loop: pages`), or a problem on each of 150,000 hosts, ended in
// "internal error: Maximum call stack size exceeded": push(...items) passes each item as an
// argument. The compile and validation paths that gather per-item or per-host lists append them
// one by one.

const root = join(import.meta.dirname, '../..');
const many = Array.from({ length: 300_000 }, (_, index) => index);

describe('lists of any length are appended', () => {
  it('the failure it avoids: push(...300,000 items) overflows the stack', () => {
    expect(() => [].push(...(many as never[]))).toThrow(RangeError);
  });

  it('appendAll appends 300,000 items in order', () => {
    const target = [-1];
    appendAll(target, many);
    expect(target).toHaveLength(300_001);
    expect(target.at(-1)).toBe(299_999);
  });

  it.each(['src/config/compile.ts', 'src/config/inventory.ts', 'src/config/cross-host-lint.ts', 'src/cli/validate-command.ts'])(
    '%s gathers its tasks and problems without push(...list)',
    (file) => {
      expect(readFileSync(join(root, file), 'utf8')).not.toMatch(/\.push\(\.\.\./);
    },
  );
});
