import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { identify, isRunning, type ProcessIdentity } from '../netns/processes.js';
import { assertSafePath } from './cache-dir.js';
import { GuestError } from './errors.js';
import { guestInit } from './guest-init.js';
import { createGuestSshFiles } from './guest-ssh.js';
import type { GuestState } from './guest-state.js';
import { ensureInitramfs } from './initramfs.js';
import { ensureKernel, type CachedKernel } from './kernel.js';
import { freeLoopbackPort } from './free-port.js';
import { guestNetwork, qemuArgs } from './qemu-args.js';
import type { RunResult } from './run.js';
import { fileTail, SerialConsole } from './serial-console.js';
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
  /** Where the guest's keys and console log go (created; must not exist yet). Default: a fresh dir under /tmp. */
  readonly workDir?: string;
  /**
   * Let qemu outlive this process (`lvsprov lab up` exits while its guest runs on); stop it later
   * with attachGuest(state).stop(). Otherwise qemu dies with this process.
   */
  readonly detached?: boolean;
  /** Add the lab uplink NIC (qemu-args.ts labNicMac), forwarded from a loopback port of its own. */
  readonly labNic?: boolean;
}

export interface GuestTimings {
  /** From starting qemu to the guest init's readiness line. */
  readonly bootMs: number;
  /** The guest's own uptime at the readiness line: kernel and init, without qemu and firmware. */
  readonly guestUptimeMs: number | undefined;
  /** The first SSH login plus a trivial command (this also opens the shared master connection). */
  readonly firstLoginMs: number;
}

/** A running guest, whether this process booted it or attached to it. */
export interface GuestHandle {
  readonly workDir: string;
  readonly endpoint: GuestEndpoint;
  /** The pid of the qemu process this guest runs in. */
  readonly pid: number;
  /** Everything needed to attach to this guest from another process. */
  readonly state: GuestState;
  run(what: GuestCommand, options?: GuestRunOptions): Promise<RunResult>;
  /** The last part of the serial console (kernel messages, the guest init's stage lines). */
  consoleTail(): string;
  /** Power the guest off, kill qemu if it lingers, close the SSH master, remove the work dir. Idempotent. */
  stop(): Promise<void>;
}

export interface Guest extends GuestHandle {
  readonly kernel: CachedKernel;
  readonly timings: GuestTimings;
}

async function waitGone(target: ProcessIdentity, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(target)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

function signal(target: ProcessIdentity, name: NodeJS.Signals): void {
  if (!isRunning(target)) return;
  try {
    process.kill(target.pid, name);
  } catch {
    // gone between the check and the signal
  }
}

/** The guest that `state` describes: run commands in it, or stop it, from any process. */
export function attachGuest(state: GuestState): GuestHandle {
  const qemu: ProcessIdentity = { pid: state.pid, startTime: state.startTime };
  const endpoint: GuestEndpoint = { ...state.endpoint };
  let stopped: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    const master = await masterPid(endpoint);
    if (isRunning(qemu)) {
      // sysrq 'o' powers off at once; with -no-reboot qemu then exits. The ssh session dies with
      // the guest, so its result says nothing and is not awaited for long.
      await runInGuest(endpoint, { script: 'echo o > /proc/sysrq-trigger' }, { timeoutMs: 10_000 });
    }
    if (!(await waitGone(qemu, 15_000))) {
      signal(qemu, 'SIGTERM');
      if (!(await waitGone(qemu, 5_000))) signal(qemu, 'SIGKILL');
      await waitGone(qemu, 5_000);
    }
    if (isRunning(qemu)) throw new GuestError(`qemu (pid ${qemu.pid}) did not exit`);
    await closeMaster(endpoint);
    if (master !== undefined) {
      try {
        process.kill(master, 'SIGTERM');
      } catch {
        // already gone with its connection, as expected
      }
    }
    await rm(state.workDir, { recursive: true, force: true });
  };
  return {
    workDir: state.workDir,
    endpoint,
    pid: state.pid,
    state,
    run: (what, options) => runInGuest(endpoint, what, options),
    consoleTail: () => fileTail(state.consoleLog),
    stop: () => (stopped ??= stop()),
  };
}

async function firstLogin(endpoint: GuestEndpoint, deadline: number): Promise<void> {
  for (;;) {
    const result = await runInGuest(endpoint, ['true'], { timeoutMs: 60_000 });
    if (result.code === 0) return;
    if (Date.now() > deadline) throw new GuestError(`cannot log into the guest over SSH: ${result.stderr.trim()}`);
    await sleep(1000);
  }
}

async function makeWorkDir(wanted: string | undefined): Promise<string> {
  if (wanted === undefined) return assertSafePath(await mkdtemp(join(tmpdir(), 'lvsprov-guest-')), 'the guest work dir');
  const dir = assertSafePath(resolve(wanted), 'the guest work dir');
  if (existsSync(dir) && (await readdir(dir)).length > 0) throw new GuestError(`the guest work dir ${dir} is not empty`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** qemu's own messages (not the console) go here; a port clash shows up in it. */
function spawnQemu(qemu: string, args: string[], logFile: string, detached: boolean): ChildProcess {
  const log = openSync(logFile, 'a');
  try {
    if (detached) {
      const child = spawn(qemu, args, { detached: true, stdio: ['ignore', log, log] });
      child.unref();
      return child;
    }
    // setpriv execs qemu in place (same pid) with a parent-death signal, so a test runner killed
    // outright cannot leave an emulator running; stop() remains the orderly way out.
    const setpriv = requireTool('setpriv', 'util-linux');
    return spawn(setpriv, ['--pdeathsig', 'KILL', '--', qemu, ...args], { stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) resolveExit({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signalName) => resolveExit({ code, signal: signalName }));
  });
}

export async function bootGuest(options: BootGuestOptions = {}): Promise<Guest> {
  requireRoot();
  const qemu = requireTool('qemu-system-x86_64', 'qemu-system-x86');
  if (!options.detached) requireTool('setpriv', 'util-linux');
  const log = options.log ?? (() => undefined);
  const kernel = await ensureKernel({ cacheDir: options.cacheDir, log });
  const initramfs = await ensureInitramfs(kernel, { cacheDir: options.cacheDir, log });
  // The guest reads this dir through the shared root at the very same path.
  const workDir = await makeWorkDir(options.workDir);
  let child: ChildProcess | undefined;
  let handle: GuestHandle | undefined;
  const killOnExit = (): void => void child?.kill('SIGKILL');
  const cleanUp = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (handle) return handle.stop();
    child?.kill('SIGKILL');
    if (child) await exitOf(child);
    await rm(workDir, { recursive: true, force: true });
  };

  try {
    const ssh = await createGuestSshFiles(workDir);
    const initPath = join(workDir, 'guest-init');
    const script = guestInit({ address: guestNetwork.guest, qemuHost: guestNetwork.host, sshdConfig: ssh.sshdConfig, hostname: 'lvsprov-guest' });
    await writeFile(initPath, script, { mode: 0o755 });
    if (!options.detached) process.on('exit', killOnExit);
    const started = Date.now();
    let readyLine = '';
    let ports: { sshPort: number; labPort: number | undefined } | undefined;
    const consoleLog = join(workDir, 'console.log');
    // A free port may be taken between probing and qemu binding it; then qemu exits and we retry.
    for (let attempt = 1; ; attempt += 1) {
      const sshPort = await freeLoopbackPort();
      const labPort = options.labNic ? await freeLoopbackPort() : undefined;
      const args = qemuArgs({
        vmlinuz: kernel.vmlinuz,
        initramfs,
        guestInit: initPath,
        modulesDir: assertSafePath(kernel.modulesDir, 'the kernel modules dir'),
        sshPort,
        ...(labPort !== undefined ? { labPort } : {}),
        memoryMb: options.memoryMb ?? 2048,
        cpus: options.cpus ?? 2,
        consoleLog,
      });
      log(`starting qemu (ssh on 127.0.0.1:${sshPort}${labPort !== undefined ? `, lab jump host on 127.0.0.1:${labPort}` : ''})`);
      const qemuLog = join(workDir, `qemu-${attempt}.log`);
      child = spawnQemu(qemu, args, qemuLog, options.detached === true);
      const serial = new SerialConsole(consoleLog, exitOf(child), options.bootTimeoutMs ?? 300_000);
      const outcome = await serial.waitForBoot();
      serial.close();
      if (outcome.kind === 'ready') {
        readyLine = outcome.line;
        ports = { sshPort, labPort };
        break;
      }
      const qemuMessages = fileTail(qemuLog, 4000);
      const portTaken = outcome.kind === 'exited' && /host forwarding rule/i.test(qemuMessages);
      if (portTaken && attempt < 3) continue;
      const what =
        outcome.kind === 'exited' ? `qemu exited (${outcome.signal ?? outcome.code})` : outcome.kind === 'timeout' ? 'the guest did not become ready in time' : outcome.line;
      throw new GuestError(`${what}; qemu said: ${qemuMessages.trim() || '(nothing)'}; console:\n${serial.tail()}`);
    }
    const pid = child.pid;
    const identity = pid === undefined ? undefined : identify(pid);
    if (!identity) throw new GuestError('qemu has no pid');
    const endpoint = { host: '127.0.0.1', port: ports.sshPort, user: 'root', clientKey: ssh.clientKey, knownHosts: ssh.knownHosts, controlPath: ssh.controlPath } as const;
    const state: GuestState = {
      version: 1,
      workDir,
      pid: identity.pid,
      startTime: identity.startTime,
      kernelRelease: kernel.release,
      sshPort: ports.sshPort,
      ...(ports.labPort !== undefined ? { labPort: ports.labPort } : {}),
      hostPublicKey: (await readFile(`${ssh.hostKey}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' '),
      consoleLog,
      sshdConfig: ssh.sshdConfig,
      endpoint,
    };
    handle = attachGuest(state);
    const bootMs = Date.now() - started;
    const uptime = /after ([\d.]+)s/.exec(readyLine)?.[1];
    const guestUptimeMs = uptime === undefined ? undefined : Math.round(Number(uptime) * 1000);
    const loginStarted = Date.now();
    await firstLogin(endpoint, Date.now() + 120_000);
    const timings = { bootMs, guestUptimeMs, firstLoginMs: Date.now() - loginStarted };
    log(`guest ready: boot ${bootMs} ms, first login ${timings.firstLoginMs} ms`);
    const attached = handle;
    const qemuProcess = child;
    return {
      ...attached,
      kernel,
      timings,
      stop: async () => {
        process.off('exit', killOnExit);
        await attached.stop();
        // attached.stop() sees qemu gone once it is a zombie; our child is reaped only when node
        // handles its exit, and until then its pid still answers signals.
        await Promise.race([exitOf(qemuProcess), sleep(10_000)]);
      },
    };
  } catch (error) {
    await cleanUp().catch(() => undefined);
    throw error;
  }
}
