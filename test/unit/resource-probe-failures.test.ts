import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { address } from '../../src/resources/address.js';
import { file } from '../../src/resources/file.js';
import { kmod } from '../../src/resources/kmod.js';
import { link } from '../../src/resources/link.js';
import { route } from '../../src/resources/route.js';
import type { AnyResourceType } from '../../src/resources/types.js';

// A missing device is a fact; a probe that could not read at all is an error, never "absent".
// These run the real probe snippets in a real shell with the tools they need out of reach, and
// against a directory where a file was expected, and the parser must refuse the result.

function runProbe(type: AnyResourceType, spec: unknown, env: Record<string, string>): { stdout: string; status: number } {
  const result = spawnSync('/bin/sh', ['-c', type.probe(spec)], { encoding: 'utf8', env });
  return { stdout: result.stdout, status: result.status ?? -1 };
}

describe('probe failures', () => {
  const noTools = { PATH: '/nonexistent' };
  const cases: Array<[string, AnyResourceType, unknown]> = [
    ['address', address, address.schema.parse({ address: '198.51.100.50', device: 'lo', label: 'lo:0' })],
    ['link', link, link.schema.parse({ device: 'lo' })],
    ['route', route, route.schema.parse({ destination: 'default', via: '192.0.2.1' })],
  ];
  for (const [name, type, spec] of cases) {
    it(`${name}: a probe whose command is missing is an error naming the package, not an empty state`, () => {
      const output = runProbe(type, spec, noTools);
      expect(() => type.parse(output, spec)).toThrow(/^ip is not installed \(Debian package: iproute2\)$/);
    });
  }

  it('kmod: output that is not the probe format is refused', () => {
    const spec = kmod.schema.parse({ name: 'ip_vs' });
    expect(() => kmod.parse({ stdout: 'sh: 1: grep: not found\n', status: 0 }, spec)).toThrow(/unexpected module probe output/);
    expect(() => kmod.parse({ stdout: 'K sideways\nF-\n', status: 0 }, spec)).toThrow(/unexpected module probe output/);
  });

  describe('file: a directory where the file should be', () => {
    let dir = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'lvsprov-probe-'));
      mkdirSync(join(dir, 'index.html'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('is refused rather than planned over, since the rename would land inside it', () => {
      const spec = file.schema.parse({ path: join(dir, 'index.html'), content: 'x\n' });
      const output = runProbe(file, spec, { PATH: process.env.PATH ?? '/usr/bin:/bin' });
      expect(output.status).toBe(0);
      expect(() => file.parse(output, spec)).toThrow(/not a regular file/);
    });

    it('still reads a real file beside it', () => {
      const path = join(dir, 'page.html');
      writeFileSync(path, 'F- looks like a marker\nno newline at end');
      chmodSync(path, 0o640);
      const spec = file.schema.parse({ path, content: 'x\n' });
      const output = runProbe(file, spec, { PATH: process.env.PATH ?? '/usr/bin:/bin' });
      expect(file.parse(output, spec)).toEqual({ exists: true, mode: '640', content: 'F- looks like a marker\nno newline at end' });
    });
  });
});
