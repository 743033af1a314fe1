import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { newNonce } from '../../src/engine/batch-script.js';
import { lockOwner, type LockOwner } from '../../src/lock/lock-owner.js';
import { parseLockReport, type LockReport } from '../../src/lock/lock-report.js';
import { acquireLockScript, holdLockScript, releaseAtExitScript, releaseLockScript, HOLDER_POLL_SECONDS, TAIL_WAITS_FOR_PID, type AcquireOptions } from '../../src/lock/lock-script.js';

// The lock snippets through a real /bin/sh and real flock, in a temporary directory. A run's SSH
// connection is stood for by a parent shell that stays alive (as `sleep`) after the script: the
// holder watches it as it watches sshd on a host, so killing it is a connection closing.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-lock-'));
const connections: ChildProcess[] = [];

afterEach(() => {
  for (const connection of connections.splice(0)) connection.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Run a script in a fresh "connection"; resolves once the script is done, the connection stays.
 * `onOutput` sees the output as it comes.
 */
function exec(script: string, onOutput?: (output: string) => void, env?: NodeJS.ProcessEnv): Promise<{ output: string; connection: ChildProcess }> {
  const connection = spawn('/bin/sh', ['-c', 'sh -s; exec sleep 60 >/dev/null 2>&1'], { stdio: ['pipe', 'pipe', 'ignore'], ...(env ? { env } : {}) });
  connections.push(connection);
  let output = '';
  connection.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    onOutput?.(output);
  });
  connection.stdin?.end(script);
  return new Promise((resolve) => connection.stdout?.on('end', () => resolve({ output, connection })));
}

async function acquire(
  owner: LockOwner,
  options: AcquireOptions,
  onOutput?: (output: string) => void,
  env?: NodeJS.ProcessEnv,
): Promise<{ report: LockReport; output: string; connection: ChildProcess }> {
  const nonce = newNonce();
  const { output, connection } = await exec(`${acquireLockScript(nonce, owner, { dir, ...options })}\necho probes-ran\n`, onOutput, env);
  return { report: parseLockReport(nonce, output), output, connection };
}

async function run(script: (nonce: string) => string): Promise<LockReport> {
  const nonce = newNonce();
  return parseLockReport(nonce, (await exec(script(nonce))).output);
}

/**
 * An acquire run under `strace -f` in a "connection" that ends with its script (the outer shell;
 * the holder ends with it, and strace with them): the lock report, and the programs it started
 * after the two shells.
 */
function tracedAcquire(owner: LockOwner, options: AcquireOptions, env?: NodeJS.ProcessEnv): { report: LockReport; programs: string[] } {
  const nonce = newNonce();
  const traced = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '/bin/sh', '-c', 'sh -s; :'], {
    input: acquireLockScript(nonce, owner, options),
    timeout: 10_000,
    ...(env ? { env } : {}),
  });
  const programs = traced.stderr.toString().split('\n').flatMap((line) => /execve\("[^"]*\/([^/"]+)"/.exec(line)?.[1] ?? []);
  return { report: parseLockReport(nonce, traced.stdout.toString()), programs: programs.slice(2) };
}

/**
 * Resolves once the lock holder named in `lockDir` (a tail, or a shell that sleeps) has taken its
 * first look at its connection and sleeps: a connection ended before that look is seen by the
 * holder itself, which then lets the lock go before any other run can find it held.
 */
async function holderSettled(lockDir: string): Promise<void> {
  const holder = Number(/holder=(\d+)/.exec(readFileSync(join(lockDir, 'run.owner'), 'utf8'))?.[1]);
  const read = (path: string): string => { try { return readFileSync(path, 'utf8'); } catch { return ''; } };
  for (let waited = 0; waited < 5000; waited += 20) {
    // tail itself, or the `sleep` of the shell that stands in for it where tail has no --pid.
    const waiting = [holder, ...read(`/proc/${holder}/task/${holder}/children`).trim().split(/\s+/).filter(Boolean).map(Number)].filter((pid) => ['tail', 'sleep'].includes(read(`/proc/${pid}/comm`).trim()));
    if (waiting.some((pid) => read(`/proc/${pid}/wchan`).includes('nanosleep'))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the lock holder ${holder} never settled`);
}

const older = lockOwner(new Date('2026-11-30T04:00:00Z'), 100, 'ctl-a');
const younger = lockOwner(new Date('2026-11-30T04:00:05Z'), 200, 'ctl-b');

describe('host lock in shell', () => {
  it('is taken at once when free, records its owner, and makes a second run wait, then time out naming the holder', async () => {
    const first = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(first.report).toEqual({ state: 'acquired', waitedSeconds: 0 });
    expect(first.output).toContain('probes-ran');
    expect(readFileSync(join(dir, 'run.owner'), 'utf8')).toMatch(new RegExp(`^run=${older.run} control=ctl-a pid=100 started=2026-11-30T04:00:00Z age=${older.age} holder=\\d+ conn=${first.connection.pid} lease_end=\\d+\\n$`));

    const second = await acquire(younger, { wait: 'wait', timeoutSeconds: 0.5 });
    expect(second.report).toMatchObject({ state: 'timeout', holder: { run: older.run, control: 'ctl-a', pid: 100, started: '2026-11-30T04:00:00Z' } });
    expect(second.report.state === 'timeout' && second.report.waitedSeconds).toBeGreaterThanOrEqual(0.5);
    // Nothing after the lock ran on a host it could not lock.
    expect(second.output).not.toContain('probes-ran');
  });

  it('dies with its connection: a waiting run gets it and says whom it waited for', async () => {
    const first = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(first.report.state).toBe('acquired');
    // The connection goes once the second run is seen waiting (its first dot).
    const waiting = acquire(younger, { wait: 'wait', timeoutSeconds: 10 }, (output) => output.startsWith('.') && first.connection.kill('SIGKILL'));
    const second = await waiting;
    expect(second.report).toMatchObject({ state: 'acquired', previous: { run: older.run, pid: 100, control: 'ctl-a' } });
    const waited = second.report.state === 'acquired' ? second.report.waitedSeconds : -1;
    expect(waited).toBeGreaterThan(0);
    expect(waited).toBeLessThan(5);
  });

  it("ends a holder whose connection is gone at once, not at the holder's next look", async () => {
    // A holder that looks once a minute: within the waiting run's 10 s, only the waiting run can free the lock.
    const first = await acquire(older, { wait: 'wait', timeoutSeconds: 5, holderPollSeconds: 60 });
    expect(first.report.state).toBe('acquired');
    const holder = Number(/holder=(\d+)/.exec(readFileSync(join(dir, 'run.owner'), 'utf8'))?.[1]);
    await holderSettled(dir);
    const gone = new Promise((resolve) => first.connection.once('exit', resolve));
    first.connection.kill('SIGKILL');
    await gone;
    const second = await acquire(younger, { wait: 'wait-die', timeoutSeconds: 10 });
    // wait-die: the older run is gone, so the younger one neither waits for it nor gives way; a
    // run that was over before this one looked is not reported as waited for.
    expect(second.report).toEqual({ state: 'acquired', waitedSeconds: 0 });
    expect(second.output).toContain('probes-ran');
    // Ended, not merely outwaited: gone, or a zombie that only waits for its new parent to reap it.
    const state = existsSync(`/proc/${holder}/stat`) ? readFileSync(`/proc/${holder}/stat`, 'utf8').split(') ')[1]?.[0] : 'gone';
    expect(['gone', 'Z']).toContain(state);
  });

  it('never ends a process that holds the lock but is not the holder of that connection, whatever its name', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'lvsprov-lock-stranger-'));
    // A tail of something else that holds the lock, named as the holder by an owner line whose
    // connection has ended (a pid reused by another tail would look like this).
    const stranger = spawn('/bin/sh', ['-c', `exec 9>>${fresh}/run.lock; flock 9; exec tail -f /dev/null`], { stdio: 'ignore' });
    const ended = spawnSync('/bin/sh', ['-c', 'echo $$']).stdout.toString().trim();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      writeFileSync(join(fresh, 'run.owner'), `run=00ff control=ctl-x pid=1 started=2026-11-30T04:00:00Z age=1 holder=${stranger.pid} conn=${ended} lease_end=999999999999\n`);
      const waiter = await acquire(younger, { wait: 'wait', timeoutSeconds: 1, dir: fresh });
      expect(waiter.report).toMatchObject({ state: 'timeout', holder: { run: '00ff' } });
      expect(readFileSync(`/proc/${stranger.pid}/cmdline`, 'utf8').replaceAll('\0', ' ')).toBe('tail -f /dev/null ');
    } finally {
      stranger.kill('SIGKILL');
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('ending such a holder costs a host one flock more and no other process', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'lvsprov-lock-stale-'));
    try {
      const first = await acquire(older, { wait: 'wait', timeoutSeconds: 5, dir: fresh, holderPollSeconds: 60 });
      expect(first.report.state).toBe('acquired');
      await holderSettled(fresh);
      const gone = new Promise((resolve) => first.connection.once('exit', resolve));
      first.connection.kill('SIGKILL');
      await gone;
      const traced = tracedAcquire(younger, { wait: 'wait', timeoutSeconds: 5, dir: fresh });
      expect(traced.report).toEqual({ state: 'acquired', waitedSeconds: 0 });
      expect(readFileSync(join(fresh, 'run.owner'), 'utf8')).toContain(`run=${younger.run} `);
      // flock -n (held), flock -w (while the holder exits), the new holder (tail, known to be
      // GNU's since the first run here) and the owner file's mv.
      expect(traced.programs.sort()).toEqual(['flock', 'flock', 'mv', 'tail']);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("is given up as its run's shell exits: the holder is ended and reaped, and a run right after takes the lock with one flock", async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'lvsprov-lock-at-exit-'));
    try {
      // A holder that looks once a minute: only the shell's exit can free the lock within this test.
      const nonce = newNonce();
      const first = await exec(`${acquireLockScript(nonce, older, { wait: 'wait', timeoutSeconds: 5, dir: fresh, holderPollSeconds: 60 })}\n${releaseAtExitScript(older)}\nx=$(echo a subshell exits); (: nor does this one)\n`);
      expect(parseLockReport(nonce, first.output)).toEqual({ state: 'acquired', waitedSeconds: 0 });
      const holder = Number(/holder=(\d+)/.exec(readFileSync(join(fresh, 'run.owner'), 'utf8'))?.[1]);
      // Reaped by the shell that started it (not a zombie left for init), while the connection lives on.
      expect(existsSync(`/proc/${holder}`)).toBe(false);
      expect(first.connection.exitCode).toBeNull();
      const traced = tracedAcquire(younger, { wait: 'wait', timeoutSeconds: 5, dir: fresh });
      expect(traced.report).toEqual({ state: 'acquired', waitedSeconds: 0 });
      expect(traced.programs.sort()).toEqual(['flock', 'mv', 'tail']);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("the exit trap ends no other run's holder, and no process that is not a holder of this run's connection", async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'lvsprov-lock-at-exit-'));
    const stranger = spawn('/bin/sh', ['-c', 'exec tail -f /dev/null'], { stdio: 'ignore' });
    try {
      const held = await acquire(older, { wait: 'wait', timeoutSeconds: 5, dir: fresh });
      expect(held.report.state).toBe('acquired');
      const holder = Number(/holder=(\d+)/.exec(readFileSync(join(fresh, 'run.owner'), 'utf8'))?.[1]);
      // The trap's function needs the lock snippets' shell functions, as it has them after an
      // acquire; these snippets define them and end without an exit of their own.
      await exec(`${releaseLockScript(newNonce(), younger, { dir: fresh })}\n${releaseAtExitScript(younger)}\n`);
      expect(readFileSync(`/proc/${holder}/cmdline`, 'utf8')).toContain('run.lock');
      expect(spawnSync('flock', ['-n', join(fresh, 'run.lock'), 'true']).status).toBe(1);
      // This run's owner line, naming as its holder a process that is no holder.
      writeFileSync(join(fresh, 'run.owner'), `run=${younger.run} control=ctl-b pid=200 started=2026-11-30T04:00:05Z age=${younger.age} holder=${stranger.pid} conn=${held.connection.pid} lease_end=999999999999\n`);
      const held$ = await run((nonce) => `${holdLockScript(nonce, younger, { dir: fresh })}\n${releaseAtExitScript(younger)}\n`);
      expect(held$.state).toBe('held');
      expect(readFileSync(`/proc/${stranger.pid}/cmdline`, 'utf8').replaceAll('\0', ' ')).toBe('tail -f /dev/null ');
    } finally {
      stranger.kill('SIGKILL');
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('giving the lock up on demand ends no process that is not a holder of the run\'s connection, though the run\'s owner line names it', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'lvsprov-lock-give-way-'));
    const stranger = spawn('/bin/sh', ['-c', 'exec tail -f /dev/null'], { stdio: 'ignore' });
    try {
      const held = await acquire(younger, { wait: 'wait', timeoutSeconds: 5, dir: fresh });
      expect(held.report.state).toBe('acquired');
      const holder = Number(/holder=(\d+)/.exec(readFileSync(join(fresh, 'run.owner'), 'utf8'))?.[1]);
      // The run's own line with its holder's pid taken by another process (a reused pid).
      writeFileSync(join(fresh, 'run.owner'), readFileSync(join(fresh, 'run.owner'), 'utf8').replace(`holder=${holder} `, `holder=${stranger.pid} `));
      expect(await run((nonce) => releaseLockScript(nonce, younger, { dir: fresh }))).toEqual({ state: 'released' });
      expect(readFileSync(`/proc/${stranger.pid}/cmdline`, 'utf8').replaceAll('\0', ' ')).toBe('tail -f /dev/null ');
      // The line put back: the holder it names is ended, and the lock is free.
      writeFileSync(join(fresh, 'run.owner'), readFileSync(join(fresh, 'run.owner'), 'utf8').replace(`holder=${stranger.pid} `, `holder=${holder} `));
      expect(await run((nonce) => releaseLockScript(nonce, younger, { dir: fresh }))).toEqual({ state: 'released' });
      expect(spawnSync('flock', ['-n', join(fresh, 'run.lock'), 'true']).status).toBe(0);
    } finally {
      stranger.kill('SIGKILL');
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('wait-die: a younger run gives way to an older one at once; an older run waits for a younger one', async () => {
    const held = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(held.report.state).toBe('acquired');
    const young = await acquire(younger, { wait: 'wait-die', timeoutSeconds: 10 });
    expect(young.report).toMatchObject({ state: 'older', holder: { run: older.run } });
    expect(young.report.state === 'older' && young.report.waitedSeconds).toBeLessThan(2);
    held.connection.kill('SIGKILL');

    const youngHeld = await acquire(younger, { wait: 'wait', timeoutSeconds: 5 });
    expect(youngHeld.report.state).toBe('acquired');
    const old = await acquire(older, { wait: 'wait-die', timeoutSeconds: 0.6 });
    expect(old.report).toMatchObject({ state: 'timeout', holder: { run: younger.run } });
  });

  it('later execs renew a held lock, and find it lost when it is not theirs', async () => {
    const held = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(held.report.state).toBe('acquired');
    expect(await run((nonce) => `${holdLockScript(nonce, older, { dir })}\necho applying`)).toEqual({ state: 'held' });
    const lost = await exec(`${holdLockScript('feed', younger, { dir })}\necho applying\n`);
    expect(parseLockReport('feed', lost.output)).toMatchObject({ state: 'lost', holder: { run: older.run } });
    expect(lost.output).not.toContain('applying');
  });

  it('a later exec within a quarter of the lease (a minute at most) of the last renewal leaves the owner file alone; one after renews it', async () => {
    const held = await acquire(older, { wait: 'wait', timeoutSeconds: 5, leaseSeconds: 4 });
    expect(held.report.state).toBe('acquired');
    const owner = join(dir, 'run.owner');
    const leaseEnd = (): number => Number(/lease_end=(\d+)/.exec(readFileSync(owner, 'utf8'))?.[1]);
    const [acquiredLine, acquiredInode] = [readFileSync(owner, 'utf8'), statSync(owner).ino];
    expect(await run((nonce) => holdLockScript(nonce, older, { dir, leaseSeconds: 4 }))).toEqual({ state: 'held' });
    expect([readFileSync(owner, 'utf8'), statSync(owner).ino]).toEqual([acquiredLine, acquiredInode]);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const before = leaseEnd();
    expect(await run((nonce) => holdLockScript(nonce, older, { dir, leaseSeconds: 4 }))).toEqual({ state: 'held' });
    expect(leaseEnd()).toBeGreaterThanOrEqual(before + 100);
    expect(statSync(owner).ino).not.toBe(acquiredInode);
  });

  it('is released on demand, and a lock whose lease ran out is taken over', async () => {
    const held = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(held.report.state).toBe('acquired');
    expect(await run((nonce) => releaseLockScript(nonce, older, { dir }))).toEqual({ state: 'released' });
    const next = await acquire(younger, { wait: 'wait', timeoutSeconds: 1, leaseSeconds: 0 });
    expect(next.report.state).toBe('acquired');

    // The younger run's connection lives on, but its lease (0 s) ran out: a waiter ends its holder.
    const takeover = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(takeover.report).toMatchObject({ state: 'acquired', previous: { run: younger.run } });
  });

  it("never takes over from an owner line without a lease_end (an older lvsprov's wall-clock lease): it waits", async () => {
    const held = await acquire(younger, { wait: 'wait', timeoutSeconds: 1, leaseSeconds: 0 });
    expect(held.report.state).toBe('acquired');
    // What an older lvsprov wrote: its lease in seconds of the wall clock, long past here.
    const owner = join(dir, 'run.owner');
    const line = readFileSync(owner, 'utf8').replace(/lease_end=\d+/, 'lease=1');
    await exec(`printf '%s' '${line}' > ${owner}`);
    const waiter = await acquire(older, { wait: 'wait', timeoutSeconds: 1 });
    expect(waiter.report).toMatchObject({ state: 'timeout', holder: { run: younger.run } });
    expect(waiter.output).not.toContain('probes-ran');
  });
});

describe('the lock holder', () => {
  const holderOf = (lockDir: string): { pid: number; command: string } => {
    const pid = Number(/holder=(\d+)/.exec(readFileSync(join(lockDir, 'run.owner'), 'utf8'))?.[1]);
    return { pid, command: readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ') };
  };
  const until = async (check: () => boolean): Promise<void> => {
    for (let waited = 0; !check() && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  };

  const acquirePrograms = (lockDir: string, env?: NodeJS.ProcessEnv): string[] =>
    tracedAcquire(older, { wait: 'wait', timeoutSeconds: 5, dir: lockDir, holderPollSeconds: 1 }, env).programs;

  it("is GNU tail itself, asked once per boot whether it is GNU's: from then on a lock costs flock, tail and the owner file's mv", async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'lvsprov-lock-holder-'));
    try {
      // The holder starts in the background: its exec and the owner file's mv come in either order.
      expect(acquirePrograms(fresh).sort()).toEqual(['flock', 'mv', 'tail', 'tail']);
      expect(existsSync(join(fresh, TAIL_WAITS_FOR_PID))).toBe(true);
      expect(acquirePrograms(fresh).sort()).toEqual(['flock', 'mv', 'tail']);

      const first = await acquire(younger, { wait: 'wait', timeoutSeconds: 5, dir: fresh, leaseSeconds: 0 });
      expect(first.report.state).toBe('acquired');
      const holder = holderOf(fresh);
      expect(holder.command).toBe(`tail ---disable-inotify -s ${HOLDER_POLL_SECONDS} --pid=${first.connection.pid} -f ${fresh}/run.lock `);
      // tail holds the lock: another run waits for it, and takes it over once its lease (0 s) ran out.
      const takeover = await acquire(older, { wait: 'wait', timeoutSeconds: 5, dir: fresh });
      expect(takeover.report).toMatchObject({ state: 'acquired', previous: { run: younger.run } });
      await until(() => !existsSync(`/proc/${holder.pid}`));
      expect(existsSync(`/proc/${holder.pid}`)).toBe(false);

      // And it dies with its connection: a waiting run gets the lock.
      const waiting = acquire(younger, { wait: 'wait', timeoutSeconds: 10, dir: fresh }, (output) => output.startsWith('.') && takeover.connection.kill('SIGKILL'));
      expect((await waiting).report).toMatchObject({ state: 'acquired', previous: { run: older.run } });
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("where tail is not GNU's (busybox: no --pid), is a shell that sleeps between looks, which holds the lock, dies with its connection, and is ended at once when that is gone", async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'lvsprov-lock-busybox-'));
    const bin = join(fresh, 'bin');
    mkdirSync(bin);
    symlinkSync('/bin/busybox', join(bin, 'tail'));
    const busybox = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
    const lockDir = join(fresh, 'lock');
    mkdirSync(lockDir);
    try {
      // tail --version (busybox's says otherwise), and the holder: a shell, whose looks' sleeps
      // come while the connection lasts (here, until the trace ends).
      expect(acquirePrograms(lockDir, busybox).filter((name) => name !== 'sleep').sort()).toEqual(['flock', 'mv', 'sh', 'tail']);
      expect(existsSync(join(lockDir, TAIL_WAITS_FOR_PID))).toBe(false);

      const first = await acquire(older, { wait: 'wait', timeoutSeconds: 5, dir: lockDir, holderPollSeconds: 1 }, undefined, busybox);
      expect(first.report.state).toBe('acquired');
      const holder = holderOf(lockDir);
      expect(holder.command).toMatch(new RegExp(`^sh -c .* lvsprov-lock-holder ${lockDir} ${first.connection.pid} $`));
      // It holds the lock: another run times out on it.
      expect((await acquire(younger, { wait: 'wait', timeoutSeconds: 1, dir: lockDir }, undefined, busybox)).report).toMatchObject({ state: 'timeout', holder: { run: older.run } });

      // Its own look sees the connection gone and frees the lock: a waiting run gets it.
      const waiting = await acquire(younger, { wait: 'wait', timeoutSeconds: 10, dir: lockDir, holderPollSeconds: 60 }, (output) => output.startsWith('.') && first.connection.kill('SIGKILL'), busybox);
      expect(waiting.report).toMatchObject({ state: 'acquired', previous: { run: older.run } });

      // A holder that looks once a minute, its connection gone: the next run ends it at once.
      await holderSettled(lockDir);
      const gone = new Promise((resolve) => waiting.connection.once('exit', resolve));
      waiting.connection.kill('SIGKILL');
      await gone;
      const started = Date.now();
      expect((await acquire(older, { wait: 'wait', timeoutSeconds: 10, dir: lockDir }, undefined, busybox)).report).toEqual({ state: 'acquired', waitedSeconds: 0 });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

describe('lock reports', () => {
  const nonce = 'abc123';
  it('parse each state, after the waiting dots, and drop holder fields of the wrong shape', () => {
    expect(parseLockReport(nonce, '....lvsprov-lock abc123 acquired waited=250 run=00ff control=c1 pid=7 started=2026-11-30T04:00:00Z age=12 holder=9 lease=1\n<<<x')).toEqual({
      state: 'acquired',
      waitedSeconds: 2.5,
      previous: { run: '00ff', control: 'c1', pid: 7, started: '2026-11-30T04:00:00Z', age: 12 },
    });
    expect(parseLockReport(nonce, 'lvsprov-lock abc123 timeout waited=6000 run=XYZ control=a;b pid=12x started=yesterday age=1')).toEqual({
      state: 'timeout',
      waitedSeconds: 60,
      holder: { age: 1 },
    });
    expect(parseLockReport(nonce, 'lvsprov-lock abc123 unsupported reason=no-flock')).toEqual({ state: 'unsupported', reason: 'flock is not installed (util-linux)' });
    expect(parseLockReport(nonce, 'lvsprov-lock abc123 held')).toEqual({ state: 'held' });
    expect(parseLockReport(nonce, 'lvsprov-lock other acquired waited=0')).toEqual({ state: 'missing' });
    expect(parseLockReport(nonce, 'lvsprov-lock abc123 bogus')).toEqual({ state: 'missing' });
  });
});
