import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keepalivedAlive, keepalivedRunsAsPidfileSays, PIDFILE } from '../../src/resources/keepalived/probe.js';

// The two questions every director's read and every keepalived stop ask of its pid file, run for
// real in dash against a pid file of this test's own (the snippets name /run/keepalived.pid; the
// path is swapped in the text). PATH is empty: the answers must come from shell builtins alone,
// with no fork and no program per read.

const root = mkdtempSync(join(tmpdir(), 'lvsprov-kapid-'));
const pidfile = join(root, 'keepalived.pid');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** A live process whose name (/proc/PID/comm) is `name`: sleep under another file name. */
function liveProcess(name: string): number {
  const program = join(root, name);
  copyFileSync('/usr/bin/sleep', program);
  const child = spawn(program, ['60'], { stdio: 'ignore' });
  children.push(child);
  if (child.pid === undefined) throw new Error(`could not start ${program}`);
  return child.pid;
}

function deadPid(): number {
  const done = spawnSync('sh', ['-c', 'sleep 0 & echo $!; wait'], { encoding: 'utf8' });
  return Number(done.stdout.trim());
}

/** Runs `snippet` with the test's pid file holding `content` (undefined: no file); its answer and $ka_pid. */
function ask(snippet: string, content: string | undefined): { yes: boolean; pid: string } {
  rmSync(pidfile, { force: true });
  if (content !== undefined) writeFileSync(pidfile, content);
  const script = `if ${snippet.replaceAll(PIDFILE, pidfile)}; then echo "yes $ka_pid"; else echo "no $ka_pid"; fi`;
  const done = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env: { PATH: '' } });
  expect(done.stderr).toBe('');
  const [answer = '', pid = ''] = done.stdout.trim().split(' ');
  return { yes: answer === 'yes', pid };
}

describe('keepalived pid file snippets', () => {
  const keepalived = liveProcess('keepalived');
  const other = liveProcess('not-keepalived');

  it.each([
    ['a live process', `${other}\n`, true],
    ['a live process, no newline at the end', `${other}`, true],
    ['a process that has exited', `${deadPid()}\n`, false],
    ['-1, which kill takes for every process', '-1\n', false],
    ['a number with more after it', `${other}x\n`, false],
    ['an empty file', '', false],
    ['no file', undefined, false],
  ] as const)('keepalivedAlive: %s', (_name, content, alive) => {
    const answer = ask(keepalivedAlive, content);
    expect(answer.yes).toBe(alive);
    if (alive) expect(answer.pid).toBe(String(other));
  });

  it.each([
    ['keepalived', `${keepalived}\n`, true],
    ['another program under a stale pid file', `${other}\n`, false],
    ['a process that has exited', `${deadPid()}\n`, false],
    ['-1', '-1\n', false],
    ['no file', undefined, false],
  ] as const)('keepalivedRunsAsPidfileSays: %s', (_name, content, runs) => {
    const answer = ask(keepalivedRunsAsPidfileSays, content);
    expect(answer.yes).toBe(runs);
    if (runs) expect(answer.pid).toBe(String(keepalived));
  });
});
