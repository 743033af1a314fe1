import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyScript, parseSections } from '../../src/engine/batch-script.js';
import { writeFileCommands } from '../../src/resources/file-state.js';
import { service } from '../../src/resources/service.js';
import { ORIGINALS_DIR, recordOriginalsCommands } from '../../src/resources/sysctl-originals.js';
import { setRuntimeCommand } from '../../src/resources/sysctl-runtime.js';
import { updateRcDEnableCommands } from '../../src/resources/sysv-links.js';

// Every process an apply script starts on a host costs it a few milliseconds of CPU; in the bench
// every lab host shares the control node's two cores. The writes a first apply makes (files, kernel
// parameters and the record of their originals, a daemon's start) run in the shell's own builtins where the shell
// can do the job. Run here in dash, the shell hosts run scripts with, under `strace -f`: the programs each
// starts, counted exactly, and what they leave behind.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-apply-processes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run an apply script of these changes; the programs it started, by name, and its sections. */
function traced(changes: ReadonlyArray<readonly string[]>, prelude?: string): { programs: string[]; sections: ReturnType<typeof parseSections>; code: number | null } {
  const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', 'sh', '-s'], { input: applyScript('n0nce', changes, prelude) });
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

  it('the directories of several writes are made in one mkdir, none when they are there; a name with a quote in it too', () => {
    const root = join(dir, "made it's way");
    const paths = [join(root, 'a', 'one'), join(root, 'b', 'two'), join(root, 'a', 'three'), join(root, 'c', 'd', 'four')];
    const changes = paths.map((path) => writeFileCommands(path, `${path}\n`, '644'));
    const first = traced(changes);
    expect(first.programs).toEqual(['mkdir', 'mv', 'mv', 'mv', 'mv']);
    for (const path of paths) expect(readFileSync(path, 'utf8')).toBe(`${path}\n`);
    expect(modeOf(join(root, 'c', 'd'))).toBe('755');
    expect(traced(changes).programs).toEqual(['mv', 'mv', 'mv', 'mv']);
  });

  it('a directory that cannot be made fails the change that needs it, with its own error; the changes before it ran', () => {
    const root = join(dir, 'blocked');
    mkdirSync(root);
    writeFileSync(join(root, 'not-a-dir'), 'a file in the way\n');
    const { programs, sections, code } = traced([writeFileCommands(join(root, 'fine', 'x'), 'x\n'), writeFileCommands(join(root, 'not-a-dir', 'y'), 'y\n')]);
    expect(programs).toEqual(['mkdir', 'mv', 'mkdir']);
    expect(readFileSync(join(root, 'fine', 'x'), 'utf8')).toBe('x\n');
    expect(sections.get(0)?.status).toBe(0);
    expect(sections.get(1)?.status).not.toBe(0);
    expect(sections.get(1)?.stdout).toMatch(/mkdir: .*not-a-dir.*Not a directory|File exists/);
    expect(code).not.toBe(0);
  });

  it('a large file is one printf: no argument list limits a builtin', () => {
    const path = join(dir, 'big');
    const big = 'line of text\n'.repeat(40_000);
    const { programs } = traced([writeFileCommands(path, big, '644')]);
    expect(programs).toEqual(['mv']);
    expect(readFileSync(path, 'utf8')).toBe(big);
  });

  it('a kernel parameter is written by the shell: no process', () => {
    // The same command on a stand-in for /proc/sys (the real file needs root and a network namespace).
    const proc = join(dir, 'proc');
    mkdirSync(join(proc, 'net/ipv4/conf/eth0.100'), { recursive: true });
    const command = setRuntimeCommand('net.ipv4.conf.eth0/100.rp_filter', '2').replace('/proc/sys', proc);
    expect(command).toBe(`printf '%s\\n' 2 > ${proc}/net/ipv4/conf/eth0.100/rp_filter`);
    const { programs, sections } = traced([[command]]);
    expect(programs).toEqual([]);
    expect(sections.get(0)?.status).toBe(0);
    expect(readFileSync(join(proc, 'net/ipv4/conf/eth0.100/rp_filter'), 'utf8')).toBe('2\n');
    expect(() => setRuntimeCommand('net.ipv4.conf.all.$(x)', '1')).toThrow(/not a sysctl name/);
  });

  it('a key that does not exist fails its change, with its end marker, as sysctl -w does', () => {
    const { sections, code } = traced([[setRuntimeCommand('net.ipv4.conf.lvsprov-none.rp_filter', '0')], ['echo never']]);
    expect(code).not.toBe(0);
    expect(sections.get(0)?.status).not.toBe(0);
    expect(sections.has(1)).toBe(false);
  });

  it('originals the read found are recorded without a process; a key it did not find is read then', () => {
    const state = join(dir, 'state');
    const file = join(state, 'sysctl-originals');
    mkdirSync(state);
    // A record kept from an earlier run, its last line without a newline.
    writeFileSync(file, 'net.ipv4.conf.lo.arp_ignore=0\nnet.ipv4.ip_forward=1');
    const record = (names: string[], known: Record<string, string | null>) => traced([recordOriginalsCommands(names, known).map((command) => command.replaceAll(ORIGINALS_DIR, state))]);
    const known = record(['net.ipv4.ip_forward', 'net.ipv4.conf.all.arp_ignore', 'net.ipv4.conf.lo.arp_ignore'], { 'net.ipv4.ip_forward': '0', 'net.ipv4.conf.all.arp_ignore': '0\t1', 'net.ipv4.conf.lo.arp_ignore': '1' });
    expect(known.programs).toEqual(['mv']);
    // kernel.ostype: a key any user reads (Linux).
    const unknown = record(['kernel.ostype'], { 'kernel.ostype': null });
    expect(unknown.programs).toEqual(['sysctl', 'tr', 'mv']);
    expect(readFileSync(file, 'utf8')).toBe('net.ipv4.conf.lo.arp_ignore=0\nnet.ipv4.ip_forward=1\nnet.ipv4.conf.all.arp_ignore=0 1\nkernel.ostype=Linux\n');
  });

  describe('linking an init script to start at boot', () => {
    // A stand-in update-rc.d, first on PATH, that behaves as Debian's without insserv: `defaults` links
    // the script by its header only where it has no link at all; `enable` turns links into S.
    // `headerRunlevels` empty is a script whose header names none of these runlevels, which
    // update-rc.d's enable refuses.
    const link = (headerRunlevels: string, existing: 'none' | 'K'): { programs: string[]; calls: string[]; status: number | undefined; links: string[] } => {
      const root = mkdtempSync(join(dir, 'rc-'));
      const bin = join(root, 'bin');
      mkdirSync(bin);
      for (const level of ['2', '3', '4', '5']) {
        mkdirSync(join(root, `rc${level}.d`));
        if (existing === 'K') writeFileSync(join(root, `rc${level}.d`, 'K01lvsprov-web'), '');
      }
      writeFileSync(
        join(bin, 'update-rc.d'),
        [
          '#!/bin/sh',
          `printf '%s\\n' "$*" >> ${root}/calls`,
          `levels='${headerRunlevels}'`,
          'case $2 in',
          `  defaults) for f in ${root}/rc?.d/[SK][0-9][0-9]$1; do [ -e "$f" ] && exit 0; done; for l in $levels; do : > ${root}/rc$l.d/S01$1; done ;;`,
          `  enable) [ -n "$levels" ] || { echo "$1 Default-Start contains no runlevels, aborting." >&2; exit 1; }; for l in $levels; do for f in ${root}/rc$l.d/K[0-9][0-9]$1; do [ -e "$f" ] && unlink "$f"; done; : > ${root}/rc$l.d/S01$1; done ;;`,
          'esac',
          '',
        ].join('\n'),
        { mode: 0o755 },
      );
      const { programs, sections } = traced([updateRcDEnableCommands([`${root}/rc[2345].d`], 'lvsprov-web')], `PATH=${bin}:$PATH`);
      const calls = readFileSync(join(root, 'calls'), 'utf8').trim().split('\n');
      const links = ['2', '3', '4', '5'].flatMap((level) => readdirSync(join(root, `rc${level}.d`)).map((name) => `rc${level}.d/${name}`));
      return { programs: programs.filter((name) => name !== 'unlink'), calls, status: sections.get(0)?.status, links };
    };

    it('a script with no link yet takes one update-rc.d: defaults alone starts it at boot', () => {
      const fresh = link('2 3 4 5', 'none');
      expect(fresh.programs).toEqual(['update-rc.d']);
      expect(fresh.calls).toEqual(['lvsprov-web defaults']);
      expect([fresh.status, fresh.links]).toEqual([0, ['rc2.d/S01lvsprov-web', 'rc3.d/S01lvsprov-web', 'rc4.d/S01lvsprov-web', 'rc5.d/S01lvsprov-web']]);
    });

    it('links someone turned K are turned back into S by enable', () => {
      const disabled = link('2 3 4 5', 'K');
      expect(disabled.calls).toEqual(['lvsprov-web defaults', 'lvsprov-web enable']);
      expect([disabled.status, disabled.links]).toEqual([0, ['rc2.d/S01lvsprov-web', 'rc3.d/S01lvsprov-web', 'rc4.d/S01lvsprov-web', 'rc5.d/S01lvsprov-web']]);
    });

    it('a header that links no start runlevel still gets enable, and its refusal fails the change', () => {
      const refused = link('', 'none');
      expect(refused.calls).toEqual(['lvsprov-web defaults', 'lvsprov-web enable']);
      expect(refused.status).toBe(1);
    });
  });

  const daemonStart = (name: string, exec: readonly string[]): string[] => {
    const spec = service.schema.parse({ name, exec });
    const [start] = service.plan(spec, { manager: 'pidfile', running: false, enabled: null, enabler: null, missing: false }, { host: 'test' });
    return (start?.commands ?? []).map((command) => command.replaceAll('/run/', `${dir}/`));
  };

  it("a daemon's start waits for it in builtins: start-stop-daemon starts once", () => {
    const { programs, sections } = traced([daemonStart('lvsprov-apply-processes', ['/usr/bin/sleep', '3'])]);
    expect(sections.get(0)?.status).toBe(0);
    // Besides the daemon itself (sleep here), a `sleep` of the wait for each check that came
    // before the daemon's exec (more under strace), and the 0.1 s it is given to stay.
    expect(programs.filter((name) => name !== 'sleep')).toEqual(['start-stop-daemon']);
  });

  it('a daemon start closes no range of descriptors, and the daemon holds /dev/null and nothing else of the script', () => {
    // start-stop-daemon without --no-close makes one close() per descriptor number the soft
    // open-files limit allows; the limit is raised to the hard one first so that would show.
    // strace follows start-stop-daemon and its forks, and lets go of the daemon at its exec.
    const trace = join(dir, 'close-trace');
    const commands = daemonStart('lvsprov-apply-processes-fds', ['/usr/bin/sleep', '30']).map((command) =>
      command.replace(/^start-stop-daemon /, `strace -f -b execve -qq -e trace=close -e signal=none -o ${trace} start-stop-daemon `),
    );
    const result = spawnSync('sh', ['-c', 'ulimit -n "$(ulimit -Hn)"; ulimit -n; exec sh -s'], { input: applyScript('n0nce', [commands]) });
    const pidfile = join(dir, 'lvsprov-lvsprov-apply-processes-fds.pid');
    const daemon = Number(readFileSync(pidfile, 'utf8').trim());
    try {
      const [limit, ...output] = result.stdout.toString().split('\n');
      expect(Number(limit)).toBeGreaterThanOrEqual(1024);
      expect(parseSections('n0nce', output.join('\n')).get(0)?.status).toBe(0);
      const closes = readFileSync(trace, 'utf8').split('\n').filter((line) => /close\(\d+\)/.test(line));
      expect(closes.length).toBeGreaterThan(0);
      expect(closes.length).toBeLessThan(16);
      expect(readlinkSync(`/proc/${daemon}/exe`)).toBe('/usr/bin/sleep');
      for (const fd of ['0', '1', '2']) expect(readlinkSync(`/proc/${daemon}/fd/${fd}`)).toBe('/dev/null');
      // Anything else it holds came from this test's own environment, never a pipe of the script's.
      const ours = new Set(readdirSync('/proc/self/fd').flatMap((fd) => { try { return [readlinkSync(`/proc/self/fd/${fd}`)]; } catch { return []; } }));
      const held = readdirSync(`/proc/${daemon}/fd`).map((fd) => readlinkSync(`/proc/${daemon}/fd/${fd}`));
      expect(held.filter((target) => /^(pipe|socket):/.test(target) && !ours.has(target))).toEqual([]);
    } finally {
      process.kill(daemon, 'SIGTERM');
    }
  });

  it('a daemon that dies right after its exec fails its change', () => {
    const { sections } = traced([daemonStart('lvsprov-apply-processes-false', ['/usr/bin/false'])]);
    expect(sections.get(0)).toMatchObject({ status: 1, stdout: expect.stringContaining('did not stay running') });
  });

  it('a daemon that never starts fails its change after six doubling waits', () => {
    // Not executable: start-stop-daemon's child cannot exec it, so it never shows as running.
    const program = join(dir, 'not-executable');
    writeFileSync(program, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const { sections, programs } = traced([daemonStart('lvsprov-apply-processes-never', [program])]);
    expect(sections.get(0)).toMatchObject({ status: 1, stdout: expect.stringContaining('did not stay running') });
    // Waited for 5.1 s in six doubling sleeps (and the 0.1 s after), where fifty of 0.1 s each
    // would start fifty processes.
    expect(programs.filter((name) => name === 'sleep')).toHaveLength(7);
  });

  it('a start that start-stop-daemon refuses says so, though its own words go to /dev/null', () => {
    const { sections } = traced([daemonStart('lvsprov-apply-processes-missing', [join(dir, 'no-such-program')])]);
    expect(sections.get(0)?.status).not.toBe(0);
    expect(sections.get(0)?.stdout).toContain(`service lvsprov-apply-processes-missing: start-stop-daemon could not start ${join(dir, 'no-such-program')} (exit 2)`);
  });
});
