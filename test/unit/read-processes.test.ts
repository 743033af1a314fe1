import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { service } from '../../src/resources/service.js';

// What a read costs a host is mostly the programs it starts: every host runs the read on every
// run, and in the bench every lab host shares the control node's two cores. Each probe here runs
// in dash, the shell hosts run scripts with, under `strace -f`, and what it prints is compared
// with what the program it stands in for answers.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-read-processes-'));
const daemons: number[] = [];
afterAll(() => {
  for (const pid of daemons) process.kill(pid);
  rmSync(dir, { recursive: true, force: true });
});

/** Run shell text in dash; the programs it started, by name, and what it printed. */
function traced(script: string): { programs: string[]; stdout: string } {
  const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', 'sh', '-s'], { input: script });
  const programs = result.stderr
    .toString()
    .split('\n')
    .flatMap((line) => /execve\("[^"]*\/([^/"]+)"/.exec(line)?.[1] ?? [])
    .slice(1);
  return { programs, stdout: result.stdout.toString() };
}

describe('processes a read starts', () => {
  it("a pidfile daemon's state is read without start-stop-daemon, and reads as start-stop-daemon --status does", async () => {
    const daemon = spawn('/usr/bin/sleep', ['300'], { stdio: 'ignore', detached: true });
    await new Promise((resolve) => daemon.once('spawn', resolve));
    daemons.push(daemon.pid as number);
    const spec = service.schema.parse({ name: 'lvsprov-read-processes', exec: ['/usr/bin/sleep', '300'] });
    const pidfile = join(dir, 'lvsprov-lvsprov-read-processes.pid');
    const probe = service.probe(spec).replaceAll('/run/', `${dir}/`);
    const cases: Array<[string, string | undefined]> = [
      ['the daemon', String(daemon.pid)],
      ['another program', String(process.pid)],
      ['no process', '999999999'],
      ['not a number', 'x y'],
      ['no pidfile', undefined],
    ];
    const seen = cases.map(([name, content]) => {
      rmSync(pidfile, { force: true });
      if (content !== undefined) writeFileSync(pidfile, `${content}\n`);
      const { programs, stdout } = traced(probe);
      const reference = spawnSync('start-stop-daemon', ['--status', '--pidfile', pidfile, '--exec', '/usr/bin/sleep']).status;
      const facts = service.parse({ stdout, status: 0 }, spec);
      expect({ name, programs, running: facts.running }).toEqual({ name, programs: [], running: reference === 0 });
      return facts.running;
    });
    expect(seen).toEqual([true, false, false, false, false]);
  });
});
