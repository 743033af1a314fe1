import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readKeyFile } from '../../src/transport/key-file.js';

// A key file named in the inventory is read before connecting: a device, a FIFO or a huge file
// named by mistake must be refused at once, not read until memory runs out.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-key-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('reads a key file as it is', () => {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
  expect(readKeyFile(join(dir, 'id')).toString('utf8')).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
});

it('refuses /dev/zero, a FIFO and a folder without reading them', () => {
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  for (const path of ['/dev/zero', fifo, dir]) expect(() => readKeyFile(path)).toThrow('not a regular file');
});

it('refuses a file far larger than a key', () => {
  const big = join(dir, 'big');
  writeFileSync(big, '');
  truncateSync(big, 64 * 1024 * 1024);
  expect(() => readKeyFile(big)).toThrow('67108864 bytes, far more than a key file holds');
});
