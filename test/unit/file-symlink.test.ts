import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { file, type FileSpec } from '../../src/resources/file.js';
import type { HostContext } from '../../src/resources/types.js';

// A file task whose path someone made a symbolic link to a regular file: the probe, the plan and
// the commands run in a real shell, twice; the second plan must be empty. The probe read the
// link's own mode (777) and the target's content, and chmod changes the target: the same chmod
// was planned on every run, and `--check --exit-code` reported drift for ever.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-file-symlink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const context = { host: 'h1' } as unknown as HostContext;

/** A link `link-NAME` to a file `target-NAME` holding `content` with `mode`; returns both paths. */
function linkedFile(name: string, content: string, mode: number): { target: string; path: string } {
  const target = join(dir, `target-${name}`);
  writeFileSync(target, content);
  chmodSync(target, mode);
  const path = join(dir, `link-${name}`);
  symlinkSync(target, path);
  return { target, path };
}

function converge(spec: FileSpec): string[][] {
  const rounds: string[][] = [];
  for (let round = 0; round < 2; round++) {
    const stdout = execFileSync('sh', ['-c', file.probe(spec)]).toString();
    const changes = file.plan(spec, file.parse({ stdout, status: 0 }, spec), context);
    rounds.push(changes.map((change) => change.summary));
    for (const change of changes) execFileSync('sh', ['-c', change.commands.join('\n')]);
  }
  return rounds;
}

describe('a file task on a symbolic link', () => {
  it("reads the target's mode, as it reads the target's content: a chmod through the link converges", () => {
    const { target, path } = linkedFile('mode', 'a=1\n', 0o600);
    expect(converge(file.schema.parse({ path, content: 'a=1\n', mode: '0640' }) as FileSpec)).toEqual([[`chmod ${path} 600 -> 640`], []]);
    expect(statSync(target).mode & 0o777).toBe(0o640);
    expect(lstatSync(path).isSymbolicLink()).toBe(true);
  });

  it('in sync through the link: no change at all', () => {
    const { path } = linkedFile('same', 'b=2\n', 0o644);
    expect(converge(file.schema.parse({ path, content: 'b=2\n' }) as FileSpec)).toEqual([[], []]);
  });

  it('other content: the write replaces the link by a regular file (the rename does not follow it), and converges', () => {
    const { target, path } = linkedFile('content', 'old\n', 0o644);
    expect(converge(file.schema.parse({ path, content: 'new\n', mode: '0600' }) as FileSpec)).toEqual([[`update ${path} (mode 644 -> 600)`], []]);
    expect([lstatSync(path).isFile(), readFileSync(path, 'utf8'), readFileSync(target, 'utf8')]).toEqual([true, 'new\n', 'old\n']);
  });
});
