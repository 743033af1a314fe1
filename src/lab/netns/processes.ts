import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

// Process identity from /proc. A pid alone can be reused once its process is gone, so the lab
// records (pid, start time) and signals a pid only while both still match.

export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks after boot, unique per pid over the machine's uptime. */
  readonly startTime: number;
}

interface Stat {
  readonly state: string;
  readonly startTime: number;
}

function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses; the fields after its last ')' do not.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', startTime: Number(fields[19]) };
}

export function identify(pid: number): ProcessIdentity | undefined {
  const stat = readStat(pid);
  return stat ? { pid, startTime: stat.startTime } : undefined;
}

/** Still running and still the same process; a zombie has already released its namespaces. */
export function isRunning(target: ProcessIdentity): boolean {
  const stat = readStat(target.pid);
  return stat !== undefined && stat.startTime === target.startTime && stat.state !== 'Z' && stat.state !== 'X';
}

/** The processes whose parent is `pid` (its threads' children lists, as /proc keeps them). */
export function childrenOf(pid: number): number[] {
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return threads.flatMap((thread) => {
    try {
      return readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8').split(' ').filter((word) => word !== '').map(Number);
    } catch {
      return [];
    }
  });
}

export function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Inode of a process's namespace of one kind, e.g. `net:[4026532388]` -> 4026532388. */
export function processNamespace(pid: number, kind: 'net' | 'mnt' | 'uts'): number | undefined {
  try {
    const match = /\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/${kind}`));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Inode of a named network namespace (`ip netns add NAME`), or undefined when it does not exist. */
export function namedNetnsInode(name: string): number | undefined {
  try {
    return statSync(`/run/netns/${name}`).ino;
  } catch {
    return undefined;
  }
}

/** Every process living in one of the given network or mount namespaces. */
export function processesInNamespaces(net: ReadonlySet<number>, mnt: ReadonlySet<number>): ProcessIdentity[] {
  const found: ProcessIdentity[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const netInode = processNamespace(pid, 'net');
    const mntInode = processNamespace(pid, 'mnt');
    if ((netInode !== undefined && net.has(netInode)) || (mntInode !== undefined && mnt.has(mntInode))) {
      const identity = identify(pid);
      if (identity) found.push(identity);
    }
  }
  return found;
}

function signal(target: ProcessIdentity, name: NodeJS.Signals): void {
  if (!isRunning(target)) return;
  try {
    process.kill(target.pid, name);
  } catch {
    // Exited between the check and the signal: nothing left to stop.
  }
}

export async function waitGone(processes: readonly ProcessIdentity[], timeoutMs: number): Promise<ProcessIdentity[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = processes.filter(isRunning);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(25);
    alive = alive.filter(isRunning);
  }
  return alive;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with whatever still runs after that (normally none). */
export async function terminate(processes: readonly ProcessIdentity[], graceMs = 3000): Promise<ProcessIdentity[]> {
  for (const target of processes) signal(target, 'SIGTERM');
  const stubborn = await waitGone(processes, graceMs);
  for (const target of stubborn) signal(target, 'SIGKILL');
  return waitGone(stubborn, 2000);
}

export function sendSignal(target: ProcessIdentity, name: NodeJS.Signals): void {
  if (!isRunning(target)) throw new Error(`process ${target.pid} is no longer running`);
  process.kill(target.pid, name);
}
