import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyScript, parseSections } from '../../src/engine/batch-script.js';
import { writeFileCommands } from '../../src/resources/file-state.js';

// Every process an apply script starts on a host costs it a few milliseconds of CPU; in the bench
// every lab host shares the control node's two cores. The file writes a first apply makes run in
// the shell's own builtins where the shell can do the job. Run here in dash, the shell hosts run scripts with, under `strace -f`: the programs each
// starts, counted exactly, and what they leave behind.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-apply-processes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run an apply script of these changes; the programs it started, by name, and its sections. */
function traced(changes: ReadonlyArray<readonly string[]>): { programs: string[]; sections: ReturnType<typeof parseSections>; code: number | null } {
  const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', 'sh', '-s'], { input: applyScript('n0nce', changes) });
  const programs = result.stderr
    .toString()
    .split('\n')
    .flatMap((line) => /execve\("[^"]*\/([^/"]+)"/.exec(line)?.[1] ?? [])
    .slice(1);
  return { programs, sections: parseSections('n0nce', result.stdout.toString()), code: result.status };
}

const modeOf = (path: string): string => (statSync(path).mode & 0o7777).toString(8);

describe('processes an apply starts', () => {
  const content = "it's $HOME, `x`, 100% \\n and a \\ backslash\n\tno newline at the end: ' \" }";

  it('a file write whose directory exists starts one: the rename', () => {
    const path = join(dir, 'page.html');
    const { programs, sections } = traced([writeFileCommands(path, content, '644')]);
    expect(programs).toEqual(['mv']);
    expect(sections.get(0)?.status).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(content);
    expect(modeOf(path)).toBe('644');
  });

  it('a mode without execute bits comes from a umask of its own (and the next write has 644 again); one with them takes a chmod', () => {
    const secret = join(dir, 'owned');
    const script = join(dir, 'init-script');
    const page = join(dir, 'after.html');
    const { programs } = traced([writeFileCommands(secret, 'a\n', '600'), writeFileCommands(script, '#!/bin/sh\nexit 0\n', '755'), writeFileCommands(page, '', '644')]);
    expect(programs).toEqual(['mv', 'chmod', 'mv', 'mv']);
    expect([modeOf(secret), modeOf(script), modeOf(page)]).toEqual(['600', '755', '644']);
    expect(readFileSync(page, 'utf8')).toBe('');
  });

  it('a temp file left behind (a wider mode) or a symlink at its name is removed first, never written through', () => {
    const path = join(dir, 'conf');
    const target = join(dir, 'not-mine');
    writeFileSync(target, 'keep\n');
    symlinkSync(target, `${path}.lvsprov-tmp`);
    const first = traced([writeFileCommands(path, 'one\n', '644')]);
    writeFileSync(`${path}.lvsprov-tmp`, 'left behind');
    chmodSync(`${path}.lvsprov-tmp`, 0o666);
    const second = traced([writeFileCommands(path, 'two\n', '644')]);
    expect([first.programs, second.programs]).toEqual([['rm', 'mv'], ['rm', 'mv']]);
    expect(readFileSync(target, 'utf8')).toBe('keep\n');
    expect(lstatSync(path).isFile()).toBe(true);
    expect([readFileSync(path, 'utf8'), modeOf(path)]).toEqual(['two\n', '644']);
  });

  it('a directory that is not there yet costs its mkdir; content with a NUL byte goes through base64', () => {
    const path = join(dir, 'new', 'deeper', 'file');
    const { programs } = traced([writeFileCommands(path, 'a\0b', '644')]);
    expect(programs).toEqual(['mkdir', 'base64', 'mv']);
    expect(readFileSync(path)).toEqual(Buffer.from('a\0b'));
  });

  it('a large file is one printf: no argument list limits a builtin', () => {
    const path = join(dir, 'big');
    const big = 'line of text\n'.repeat(40_000);
    const { programs } = traced([writeFileCommands(path, big, '644')]);
    expect(programs).toEqual(['mv']);
    expect(readFileSync(path, 'utf8')).toBe(big);
  });
});
