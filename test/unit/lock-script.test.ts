import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { applyScript, newNonce, readScript } from '../../src/engine/batch-script.js';
import { drainScript } from '../../src/engine/drain-script.js';
import { lockOwner, type LockOwner } from '../../src/lock/lock-owner.js';
import { describeHolder, parseLockReport, type LockReport } from '../../src/lock/lock-report.js';
import { acquireLockScript, holdLockScript, LOCK_FD_CLOSED, releaseLockScript, type AcquireOptions } from '../../src/lock/lock-script.js';

// The lock snippets through a real /bin/sh and real flock, in a temporary directory. A run's
// session is a `sh -s` that reads script after script from its input, as on a host; its SSH
// connection is stood for by the parent shell around it, which stays alive (as `sleep`) after it.
// Killing that parent and ending the input is a connection closing.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-lock-'));
const sessions: Session[] = [];

afterEach(() => {
  for (const session of sessions.splice(0)) session.kill();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DONE = '__lock_test_script_done__';

class Session {
  readonly connection: ChildProcess;
  /** Everything the session's shell printed so far. */
  output = '';
  private readonly ended: Promise<void>;
  private listeners: Array<() => void> = [];

  constructor(env?: NodeJS.ProcessEnv) {
    this.connection = spawn('/bin/sh', ['-c', 'sh -s; exec sleep 60 >/dev/null 2>&1'], { stdio: ['pipe', 'pipe', 'ignore'], ...(env ? { env } : {}) });
    sessions.push(this);
    this.connection.stdout?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
      for (const listener of this.listeners) listener();
    });
    this.ended = new Promise((resolve) => this.connection.stdout?.on('end', () => resolve()));
  }

  /** Send a script; resolves with what it printed once it is done, or the shell ended. */
  send(script: string, onOutput?: (output: string) => void): Promise<string> {
    const from = this.output.length;
    const marker = `${DONE}${newNonce()}`;
    return new Promise((resolve) => {
      const check = (): void => {
        const output = this.output.slice(from);
        onOutput?.(output);
        const at = output.indexOf(marker);
        if (at >= 0) {
          this.listeners = this.listeners.filter((listener) => listener !== check);
          resolve(output.slice(0, at));
        }
      };
      this.listeners.push(check);
      void this.ended.then(() => resolve(this.output.slice(from)));
      this.connection.stdin?.write(`${script}\nprintf '%s\\n' ${marker}\n`);
    });
  }

  /** The run closes the session: the shell's input ends. */
  close(): Promise<void> {
    this.connection.stdin?.end();
    return this.ended;
  }

  /** The connection is lost: the process standing for it dies and the shell's input ends. */
  kill(): void {
    this.connection.kill('SIGKILL');
    this.connection.stdin?.end();
  }

  /** The session's shell (the `sh -s`), whose pid the owner line names as the holder. */
  shell(): number {
    const children = readFileSync(`/proc/${this.connection.pid}/task/${this.connection.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    const shell = children.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sh\0-s\0');
    if (shell === undefined) throw new Error('no session shell');
    return shell;
  }
}

async function acquire(
  owner: LockOwner,
  options: AcquireOptions,
  onOutput?: (output: string) => void,
  session = new Session(),
): Promise<{ report: LockReport; output: string; session: Session }> {
  const nonce = newNonce();
  const output = await session.send(`${acquireLockScript(nonce, owner, { dir, ...options })}\necho probes-ran`, onOutput);
  return { report: parseLockReport(nonce, output), output, session };
}

async function run(session: Session, script: (nonce: string) => string): Promise<LockReport> {
  const nonce = newNonce();
  return parseLockReport(nonce, await session.send(script(nonce)));
}

/**
 * An acquire run under `strace -f` in a session that ends with its script: the lock report, and
 * the programs it started after the two shells.
 */
function tracedAcquire(owner: LockOwner, options: AcquireOptions): { report: LockReport; programs: string[] } {
  const nonce = newNonce();
  const traced = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '/bin/sh', '-c', 'sh -s; :'], {
    input: acquireLockScript(nonce, owner, options),
    timeout: 10_000,
  });
  const programs = traced.stderr.toString().split('\n').flatMap((line) => /execve\("[^"]*\/([^/"]+)"/.exec(line)?.[1] ?? []);
  return { report: parseLockReport(nonce, traced.stdout.toString()), programs: programs.slice(2) };
}

const isFree = (lockDir: string): boolean => spawnSync('flock', ['-n', join(lockDir, 'run.lock'), 'true']).status === 0;
const ownerHolder = (lockDir: string): number => Number(/holder=(\d+)/.exec(readFileSync(join(lockDir, 'run.owner'), 'utf8'))?.[1]);
/** Ended: gone, or a zombie that only waits for its parent to reap it. */
const ended = (pid: number): boolean => !existsSync(`/proc/${pid}/stat`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] === 'Z';
const until = async (check: () => boolean, ms = 5000): Promise<void> => {
  for (let waited = 0; !check() && waited < ms; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
};

const older = lockOwner(new Date('2026-11-30T04:00:00Z'), 100, 'ctl-a');
const younger = lockOwner(new Date('2026-11-30T04:00:05Z'), 200, 'ctl-b');

describe('host lock in shell', () => {
  it("is taken at once when free, held by the run's shell, records its owner, and makes a second run wait, then time out naming the holder", async () => {
    const first = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(first.report).toEqual({ state: 'acquired', waitedSeconds: 0 });
    expect(first.output).toContain('probes-ran');
    const shell = first.session.shell();
    expect(readFileSync(join(dir, 'run.owner'), 'utf8')).toMatch(
      new RegExp(`^run=${older.run} control=ctl-a pid=100 started=2026-11-30T04:00:00Z age=${older.age} holder=${shell} conn=${first.session.connection.pid} lease_end=\\d+\\n$`),
    );
    // The shell itself holds the lock, on descriptor 9; no other process was left behind.
    expect(readlinkSync(`/proc/${shell}/fd/9`)).toBe(join(dir, 'run.lock'));
    expect(readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim()).toBe('');

    const second = await acquire(younger, { wait: 'wait', timeoutSeconds: 0.5 });
    expect(second.report).toMatchObject({ state: 'timeout', holder: { run: older.run, control: 'ctl-a', pid: 100, started: '2026-11-30T04:00:00Z' } });
    expect(second.report.state === 'timeout' && second.report.waitedSeconds).toBeGreaterThanOrEqual(0.5);
    // Nothing after the lock ran on a host it could not lock.
    expect(second.output).not.toContain('probes-ran');
  });

  it('is held until the run closes its session: a waiting run gets it the moment the shell exits, and says whom it waited for', async () => {
    const first = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(first.report.state).toBe('acquired');
    // Later scripts of the run do not give it up.
    await first.session.send('echo a later script; x=$(echo a subshell exits); (: nor does this one)');
    expect(isFree(dir)).toBe(false);
    // The session closes once the second run is seen waiting (its first dot).
    const second = await acquire(younger, { wait: 'wait', timeoutSeconds: 10 }, (output) => void (output.startsWith('.') && first.session.close()));
    expect(second.report).toMatchObject({ state: 'acquired', previous: { run: older.run, pid: 100, control: 'ctl-a' } });
    const waited = second.report.state === 'acquired' ? second.report.waitedSeconds : -1;
    expect(waited).toBeGreaterThan(0);
    expect(waited).toBeLessThan(2);
  });

  it('dies with its connection: the shell ends with its input, and the next run takes the lock at once', async () => {
    const first = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(first.report.state).toBe('acquired');
    const shell = first.session.shell();
    first.session.kill();
    await until(() => ended(shell));
    const second = await acquire(younger, { wait: 'wait-die', timeoutSeconds: 10 });
    // wait-die: the older run is gone, so the younger one neither waits for it nor gives way.
    expect(second.report).toEqual({ state: 'acquired', waitedSeconds: 0 });
    expect(second.output).toContain('probes-ran');
  });

  it('a shell that goes on after its connection is gone keeps the lock until it is done: no other run changes the host meanwhile', async () => {
    const first = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(first.report.state).toBe('acquired');
    // The shell is in a change's command when its connection goes.
    const working = first.session.send(`sleep 2 ${LOCK_FD_CLOSED}; echo change-done >${join(dir, 'change-done')}`);
    await until(() => first.session.output.length > 0 && existsSync(`/proc/${first.session.shell()}`));
    await new Promise((resolve) => setTimeout(resolve, 200));
    first.session.kill();
    const second = await acquire(younger, { wait: 'wait', timeoutSeconds: 10 });
    expect(second.report).toMatchObject({ state: 'acquired', previous: { run: older.run } });
    // The waiter got the lock only after the orphaned shell finished its change.
    expect(readFileSync(join(dir, 'change-done'), 'utf8')).toBe('change-done\n');
    expect(second.report.state === 'acquired' && second.report.waitedSeconds).toBeGreaterThan(1);
    await working;
  });

  it('never ends a process the owner line names but that does not hold the lock, whatever its name, lease or no lease', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'lvsprov-lock-stranger-'));
    // The lock held by a process the owner line does not name; the line names a stranger (a
    // reused pid) with a lease long run out.
    const holding = spawn('/bin/sh', ['-c', `exec 9>>${fresh}/run.lock; flock 9; exec tail -f /dev/null`], { stdio: 'ignore' });
    const stranger = spawn('/bin/sh', ['-c', 'exec tail -f /dev/null'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      writeFileSync(join(fresh, 'run.owner'), `run=00ff control=ctl-x pid=1 started=2026-11-30T04:00:00Z age=1 holder=${stranger.pid} conn=${holding.pid} lease_end=1\n`);
      const waiter = await acquire(younger, { wait: 'wait', timeoutSeconds: 1, dir: fresh });
      expect(waiter.report).toMatchObject({ state: 'timeout', holder: { run: '00ff' } });
      expect(readFileSync(`/proc/${stranger.pid}/cmdline`, 'utf8').replaceAll('\0', ' ')).toBe('tail -f /dev/null ');
      expect(ended(holding.pid as number)).toBe(false);
      // Named, holding, but within its lease: waited for, not ended.
      writeFileSync(join(fresh, 'run.owner'), `run=00ff control=ctl-x pid=1 started=2026-11-30T04:00:00Z age=1 holder=${holding.pid} conn=${holding.pid} lease_end=999999999999\n`);
      expect((await acquire(younger, { wait: 'wait', timeoutSeconds: 1, dir: fresh })).report).toMatchObject({ state: 'timeout', holder: { run: '00ff' } });
      expect(ended(holding.pid as number)).toBe(false);
    } finally {
      holding.kill('SIGKILL');
      stranger.kill('SIGKILL');
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("costs a host one flock (and the lock directory's mkdir once per boot), and no process stays", async () => {
    const fresh = join(mkdtempSync(join(tmpdir(), 'lvsprov-lock-cost-')), 'lock');
    try {
      expect(tracedAcquire(older, { wait: 'wait', timeoutSeconds: 5, dir: fresh }).programs.sort()).toEqual(['flock', 'mkdir']);
      const traced = tracedAcquire(younger, { wait: 'wait', timeoutSeconds: 5, dir: fresh });
      expect(traced.report).toEqual({ state: 'acquired', waitedSeconds: 0 });
      expect(traced.programs).toEqual(['flock']);
      expect(readFileSync(join(fresh, 'run.owner'), 'utf8')).toContain(`run=${younger.run} `);
      expect(isFree(fresh)).toBe(true);
    } finally {
      rmSync(join(fresh, '..'), { recursive: true, force: true });
    }
  });

  it("no program a run's scripts start holds the lock: not a probe's, not a drain poll's, not a daemon a change starts", async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'lvsprov-lock-inherit-'));
    const pids = join(fresh, 'pids');
    try {
      const session = new Session();
      const held = await acquire(older, { wait: 'wait', timeoutSeconds: 5, dir: fresh }, undefined, session);
      expect(held.report.state).toBe('acquired');
      const background = (what: string): string => `sleep 30 </dev/null >/dev/null 2>&1 & echo "$! ${what}" >>${pids}`;
      await session.send(readScript(newNonce(), [background('probe'), `(${background('subshell probe')}); exit 0`]));
      await session.send(applyScript(newNonce(), [[background('daemon')], [`sh -c '${background('grandchild')}'`]]));
      await session.send(drainScript([], 5).replace('start=$(date +%s)', `${background('drain')}; start=$(date +%s)`));
      const started = readFileSync(pids, 'utf8').trim().split('\n').map((line) => Number(line.split(' ')[0]));
      expect(started).toHaveLength(5);
      const lock = statSync(join(fresh, 'run.lock'));
      for (const pid of started) {
        const open = readdirSync(`/proc/${pid}/fd`).filter((fd) => {
          const target = statSync(`/proc/${pid}/fd/${fd}`, { throwIfNoEntry: false });
          return target?.ino === lock.ino && target.dev === lock.dev;
        });
        expect(open, `${readFileSync(pids, 'utf8')}: ${pid}`).toEqual([]);
      }
      // The shell still holds it, and frees it as it exits while they live on.
      expect(isFree(fresh)).toBe(false);
      await session.close();
      await until(() => isFree(fresh));
      expect(isFree(fresh)).toBe(true);
      expect(started.every((pid) => !ended(pid))).toBe(true);
      for (const pid of started) process.kill(pid, 'SIGKILL');
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('wait-die: a younger run gives way to an older one at once; an older run waits for a younger one', async () => {
    const held = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(held.report.state).toBe('acquired');
    const young = await acquire(younger, { wait: 'wait-die', timeoutSeconds: 10 });
    expect(young.report).toMatchObject({ state: 'older', holder: { run: older.run } });
    expect(young.report.state === 'older' && young.report.waitedSeconds).toBeLessThan(2);
    await held.session.close();

    const youngHeld = await acquire(younger, { wait: 'wait', timeoutSeconds: 5 });
    expect(youngHeld.report.state).toBe('acquired');
    const old = await acquire(older, { wait: 'wait-die', timeoutSeconds: 0.6 });
    expect(old.report).toMatchObject({ state: 'timeout', holder: { run: younger.run } });
  });

  it('a run that finds its own owner line under another inventory name (one machine named twice) says so at once, held or left, naming that host', async () => {
    const asRs1 = { ...older, host: 'rs1' };
    const held = await acquire(asRs1, { wait: 'wait', timeoutSeconds: 5 });
    expect(held.report.state).toBe('acquired');
    expect(readFileSync(join(dir, 'run.owner'), 'utf8')).toMatch(/ age=\d+ host=rs1 holder=/);
    for (const wait of ['wait', 'wait-die'] as const) {
      const twice = await acquire({ ...older, host: 'rs1-by-name' }, { wait, timeoutSeconds: 10 });
      expect(twice.report).toMatchObject({ state: 'self', holder: { run: older.run, host: 'rs1' } });
      expect(twice.output).not.toContain('probes-ran');
    }
    // Another run waits for it as for any holder, and is told which host that run reaches it as.
    const other = await acquire(younger, { wait: 'wait', timeoutSeconds: 0.3 });
    expect(other.report.state === 'timeout' && describeHolder(other.report.holder)).toBe('lvsprov pid 100 on ctl-a, started 2026-11-30T04:00:00Z, which reaches it as rs1');
    // Given up, or its connection closed after a read with nothing to change: the owner line it
    // left still tells the second name, at once, and the lock stays free.
    await held.session.close();
    expect(isFree(dir)).toBe(true);
    const after = await acquire({ ...older, host: 'rs1-by-name' }, { wait: 'wait', timeoutSeconds: 5 });
    expect(after.report).toMatchObject({ state: 'self', holder: { run: older.run, host: 'rs1' } });
    expect(after.output).not.toContain('probes-ran');
    expect(isFree(dir)).toBe(true);
    // The same name again (a read after giving way to an older run), or an owner line without a
    // host (an older lvsprov's), is no reason to stop.
    const again = await acquire(asRs1, { wait: 'wait', timeoutSeconds: 5 });
    expect(again.report).toEqual({ state: 'acquired', waitedSeconds: 0 });
    await again.session.close();
    writeFileSync(join(dir, 'run.owner'), `run=${older.run} control=ctl-a pid=100 started=2026-11-30T04:00:00Z age=${older.age} holder=1 conn=1 lease_end=1\n`);
    expect((await acquire({ ...older, host: 'rs2' }, { wait: 'wait', timeoutSeconds: 5 })).report).toEqual({ state: 'acquired', waitedSeconds: 0 });
  });

  it('later execs renew a held lock, and find it lost when it is not theirs: another shell, or this one after it gave the lock up', async () => {
    const held = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(held.report.state).toBe('acquired');
    expect(await run(held.session, (nonce) => `${holdLockScript(nonce, older, { dir })}\necho applying`)).toEqual({ state: 'held' });
    // The same run's owner line, read in a shell that is not the holder.
    const other = await new Session().send(`${holdLockScript('feed', older, { dir })}\necho applying`);
    expect(parseLockReport('feed', other)).toMatchObject({ state: 'lost', holder: { run: older.run } });
    expect(other).not.toContain('applying');
    const lost = await new Session().send(`${holdLockScript('feed', younger, { dir })}\necho applying`);
    expect(parseLockReport('feed', lost)).toMatchObject({ state: 'lost', holder: { run: older.run } });
    expect(lost).not.toContain('applying');
    // Given up, the lock is not this shell's any more, whatever the owner line says.
    expect(await run(held.session, (nonce) => releaseLockScript(nonce))).toEqual({ state: 'released' });
    expect(await run(held.session, (nonce) => `${holdLockScript(nonce, older, { dir })}\necho applying`)).toMatchObject({ state: 'lost' });
  });

  it('a later exec within a quarter of the lease (a minute at most) of the last renewal leaves the owner file alone; one after renews it', async () => {
    const held = await acquire(older, { wait: 'wait', timeoutSeconds: 5, leaseSeconds: 4 });
    expect(held.report.state).toBe('acquired');
    const owner = join(dir, 'run.owner');
    const leaseEnd = (): number => Number(/lease_end=(\d+)/.exec(readFileSync(owner, 'utf8'))?.[1]);
    const acquiredLine = readFileSync(owner, 'utf8');
    const acquiredAt = statSync(owner).mtimeMs;
    expect(await run(held.session, (nonce) => holdLockScript(nonce, older, { dir, leaseSeconds: 4 }))).toEqual({ state: 'held' });
    expect([readFileSync(owner, 'utf8'), statSync(owner).mtimeMs]).toEqual([acquiredLine, acquiredAt]);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const before = leaseEnd();
    expect(await run(held.session, (nonce) => holdLockScript(nonce, older, { dir, leaseSeconds: 4 }))).toEqual({ state: 'held' });
    expect(leaseEnd()).toBeGreaterThanOrEqual(before + 100);
    expect(readFileSync(owner, 'utf8')).toBe(acquiredLine.replace(/lease_end=\d+/, `lease_end=${leaseEnd()}`));
  });

  it('an owner file found empty (the holder rewriting it) or cut short is an owner not known yet: the waiter looks again, and takes nothing over', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'lvsprov-lock-owner-'));
    const holding = spawn('/bin/sh', ['-c', `exec 9>>${fresh}/run.lock; flock 9; exec tail -f /dev/null`], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const line = `run=00ff control=ctl-x pid=1 started=2026-11-30T04:00:00Z age=1 holder=${holding.pid} conn=${holding.pid} lease_end=1`;
      for (const text of ['', line]) {
        writeFileSync(join(fresh, 'run.owner'), text);
        const waiter = await acquire(younger, { wait: 'wait-die', timeoutSeconds: 0.5, dir: fresh });
        // Not older (its age is unknown), not expired (its lease is unknown): waited for.
        expect(waiter.report).toMatchObject({ state: 'timeout', holder: {} });
        expect(waiter.report.state === 'timeout' && waiter.report.holder).toEqual({});
        expect(ended(holding.pid as number)).toBe(false);
      }
    } finally {
      holding.kill('SIGKILL');
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it('is released on demand with the session open, and a lock whose lease ran out is taken over: its shell is ended', async () => {
    const held = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(held.report.state).toBe('acquired');
    expect(await run(held.session, (nonce) => releaseLockScript(nonce))).toEqual({ state: 'released' });
    expect(isFree(dir)).toBe(true);
    expect(held.session.connection.exitCode).toBeNull();
    const next = await acquire(younger, { wait: 'wait', timeoutSeconds: 1, leaseSeconds: 0 });
    expect(next.report.state).toBe('acquired');
    const shell = ownerHolder(dir);
    expect(shell).toBe(next.session.shell());

    // The younger run's connection lives on, but its lease (0 s) ran out: a waiter ends its shell.
    const takeover = await acquire(older, { wait: 'wait', timeoutSeconds: 5 });
    expect(takeover.report).toMatchObject({ state: 'acquired', previous: { run: younger.run } });
    await until(() => ended(shell));
    expect(ended(shell)).toBe(true);
  });

  it("never takes over from an owner line without a lease_end (an older lvsprov's wall-clock lease): it waits", async () => {
    const held = await acquire(younger, { wait: 'wait', timeoutSeconds: 1, leaseSeconds: 0 });
    expect(held.report.state).toBe('acquired');
    // What an older lvsprov wrote: its lease in seconds of the wall clock, long past here.
    const owner = join(dir, 'run.owner');
    writeFileSync(owner, readFileSync(owner, 'utf8').replace(/lease_end=\d+/, 'lease=1'));
    const waiter = await acquire(older, { wait: 'wait', timeoutSeconds: 1 });
    expect(waiter.report).toMatchObject({ state: 'timeout', holder: { run: younger.run } });
    expect(waiter.output).not.toContain('probes-ran');
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
    expect(parseLockReport(nonce, 'lvsprov-lock abc123 self run=00ff host=rs1.example')).toEqual({ state: 'self', holder: { run: '00ff', host: 'rs1.example' } });
    expect(parseLockReport(nonce, "lvsprov-lock abc123 self run=00ff host=rs1;reboot host='x'")).toEqual({ state: 'self', holder: { run: '00ff' } });
    expect(parseLockReport(nonce, 'lvsprov-lock other acquired waited=0')).toEqual({ state: 'missing' });
    expect(parseLockReport(nonce, 'lvsprov-lock abc123 bogus')).toEqual({ state: 'missing' });
  });

  it('name the holder for the operator, or say the owner file named none (an empty file while the holder rewrites it)', () => {
    expect(describeHolder({ run: '00ff', control: 'ctl1', pid: 4242, started: '2026-11-30T04:00:00Z', age: 1 })).toBe('lvsprov pid 4242 on ctl1, started 2026-11-30T04:00:00Z');
    expect(describeHolder({ pid: 4242 })).toBe('lvsprov pid 4242 on ?');
    // A waiter that timed out while the owner file was empty reports no holder field.
    const report = parseLockReport(nonce, 'lvsprov-lock abc123 timeout waited=100 ');
    expect(report.state === 'timeout' && describeHolder(report.holder)).toBe('another lvsprov run (its owner file did not say which: unreadable, or being rewritten)');
  });
});
