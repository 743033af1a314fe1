import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertSafePath } from './cache-dir.js';
import { GuestError } from './errors.js';
import { guestInit } from './guest-init.js';
import { createGuestSshFiles } from './guest-ssh.js';
import { ensureInitramfs } from './initramfs.js';
import { ensureKernel, type CachedKernel } from './kernel.js';
import { freeLoopbackPort } from './free-port.js';
import { guestNetwork, qemuArgs } from './qemu-args.js';
import type { RunResult } from './run.js';
import { SerialConsole } from './serial-console.js';
import { closeMaster, masterPid, runInGuest, type GuestCommand, type GuestEndpoint, type GuestRunOptions } from './ssh-client.js';
import { requireRoot, requireTool } from './tools.js';

// A real Debian kernel under qemu (TCG), its root the machine's own / seen read-only through 9p
// with a tmpfs overlay, reachable from the machine by SSH on a forwarded loopback port.

export interface BootGuestOptions {
  readonly cacheDir?: string;
  /**
   * Bound on qemu start to the readiness line. About 20 s on an idle 2-core machine, but emulation
   * suffers badly from CPU contention (over 2 minutes measured at load average 35).
   */
  readonly bootTimeoutMs?: number;
  readonly memoryMb?: number;
  readonly cpus?: number;
  readonly log?: (line: string) => void;
}

export interface GuestTimings {
  /** From starting qemu to the guest init's readiness line. */
  readonly bootMs: number;
  /** The guest's own uptime at the readiness line: kernel and init, without qemu and firmware. */
  readonly guestUptimeMs: number | undefined;
  /** The first SSH login plus a trivial command (this also opens the shared master connection). */
  readonly firstLoginMs: number;
}

export interface Guest {
  readonly workDir: string;
  readonly kernel: CachedKernel;
  readonly endpoint: GuestEndpoint;
  readonly timings: GuestTimings;
  /** The pid of the qemu process this guest runs in. */
  readonly pid: number;
  run(what: GuestCommand, options?: GuestRunOptions): Promise<RunResult>;
  /** The last part of the serial console (kernel messages, the guest init's stage lines). */
  consoleTail(): string;
  /** Power the guest off, kill qemu if it lingers, remove the work dir. Idempotent. */
  stop(): Promise<void>;
}

function waitForExit(child: ChildProcessWithoutNullStreams, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function firstLogin(endpoint: GuestEndpoint, deadline: number): Promise<void> {
  for (;;) {
    const result = await runInGuest(endpoint, ['true'], { timeoutMs: 60_000 });
    if (result.code === 0) return;
    if (Date.now() > deadline) throw new GuestError(`cannot log into the guest over SSH: ${result.stderr.trim()}`);
    await sleep(1000);
  }
}

export async function bootGuest(options: BootGuestOptions = {}): Promise<Guest> {
  requireRoot();
  const qemu = requireTool('qemu-system-x86_64', 'qemu-system-x86');
  const setpriv = requireTool('setpriv', 'util-linux');
  const log = options.log ?? (() => undefined);
  const kernel = await ensureKernel({ cacheDir: options.cacheDir, log });
  const initramfs = await ensureInitramfs(kernel, { cacheDir: options.cacheDir, log });
  // The guest reads this dir through the shared root at the very same path.
  const workDir = assertSafePath(await mkdtemp(join(tmpdir(), 'lvsprov-guest-')), 'the guest work dir');
  let child: ChildProcessWithoutNullStreams | undefined;
  let serial: SerialConsole | undefined;
  let endpoint: GuestEndpoint | undefined;
  let stopped = false;
  const killOnExit = (): void => void child?.kill('SIGKILL');

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const master = endpoint ? await masterPid(endpoint) : undefined;
    if (child && endpoint && !(await waitForExit(child, 0))) {
      // sysrq 'o' powers off at once; with -no-reboot qemu then exits. The ssh session dies with
      // the guest, so its result says nothing and is not awaited for long.
      await runInGuest(endpoint, { script: 'echo o > /proc/sysrq-trigger' }, { timeoutMs: 10_000 });
    }
    if (child && !(await waitForExit(child, 15_000))) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 5_000))) child.kill('SIGKILL');
      await waitForExit(child, 5_000);
    }
    if (endpoint) await closeMaster(endpoint);
    if (master !== undefined) {
      try {
        process.kill(master, 'SIGTERM');
      } catch {
        // already gone with its connection, as expected
      }
    }
    process.off('exit', killOnExit);
    await serial?.close();
    await rm(workDir, { recursive: true, force: true });
  };

  try {
    const ssh = await createGuestSshFiles(workDir);
    const initPath = join(workDir, 'guest-init');
    const script = guestInit({ address: guestNetwork.guest, qemuHost: guestNetwork.host, sshdConfig: ssh.sshdConfig, hostname: 'lvsprov-guest' });
    await writeFile(initPath, script, { mode: 0o755 });
    process.on('exit', killOnExit);
    const started = Date.now();
    let readyLine = '';
    // The free port may be taken between probing and qemu binding it; then qemu exits and we retry.
    for (let attempt = 1; ; attempt += 1) {
      const sshPort = await freeLoopbackPort();
      const args = qemuArgs({
        vmlinuz: kernel.vmlinuz,
        initramfs,
        guestInit: initPath,
        modulesDir: assertSafePath(kernel.modulesDir, 'the kernel modules dir'),
        sshPort,
        memoryMb: options.memoryMb ?? 2048,
        cpus: options.cpus ?? 2,
      });
      log(`starting qemu (ssh on 127.0.0.1:${sshPort})`);
      // setpriv execs qemu in place (same pid) with a parent-death signal, so a test runner killed
      // outright cannot leave an emulator running; stop() remains the orderly way out.
      child = spawn(setpriv, ['--pdeathsig', 'KILL', '--', qemu, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      serial = new SerialConsole(child, join(workDir, `console-${attempt}.log`), options.bootTimeoutMs ?? 300_000);
      const outcome = await serial.waitForBoot();
      if (outcome.kind === 'ready') {
        readyLine = outcome.line;
        endpoint = { host: '127.0.0.1', port: sshPort, user: 'root', clientKey: ssh.clientKey, knownHosts: ssh.knownHosts, controlPath: ssh.controlPath };
        break;
      }
      const portTaken = outcome.kind === 'exited' && /host forwarding rule/i.test(serial.tail());
      if (portTaken && attempt < 3) {
        await serial.close();
        continue;
      }
      const what =
        outcome.kind === 'exited' ? `qemu exited (${outcome.signal ?? outcome.code})` : outcome.kind === 'timeout' ? 'the guest did not become ready in time' : outcome.line;
      throw new GuestError(`${what}; console:\n${serial.tail()}`);
    }
    const bootMs = Date.now() - started;
    const uptime = /after ([\d.]+)s/.exec(readyLine)?.[1];
    const guestUptimeMs = uptime === undefined ? undefined : Math.round(Number(uptime) * 1000);
    const loginStarted = Date.now();
    await firstLogin(endpoint, Date.now() + 120_000);
    const timings = { bootMs, guestUptimeMs, firstLoginMs: Date.now() - loginStarted };
    log(`guest ready: boot ${bootMs} ms, first login ${timings.firstLoginMs} ms`);
    const guestEndpoint = endpoint;
    const guestConsole = serial;
    const pid = child.pid;
    if (pid === undefined) throw new GuestError('qemu has no pid');
    return {
      workDir,
      kernel,
      endpoint: guestEndpoint,
      timings,
      pid,
      run: (what, runOptions) => runInGuest(guestEndpoint, what, runOptions),
      consoleTail: () => guestConsole.tail(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
