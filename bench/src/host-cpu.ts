import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

// What a run costs the hosts' side: each lab host's sshd is the parent of every login on it, and
// the kernel adds a process's CPU to its parent's "children" times when the parent reaps it. So the
// difference in a host sshd's cutime + cstime across a run is that run's logins, shells, scripts
// and the programs they waited for on that host. Processes left running (the lock holder, a
// daemon an apply started) are not in it: they outlive the run, and their parent is not sshd then.

/** cutime + cstime of a /proc/PID/stat line, in clock ticks; undefined when the line is not one. */
export function childCpuTicks(stat: string): number | undefined {
  // "pid (comm) state ppid ...": the name may itself hold ") ", so fields start after the last.
  const end = stat.lastIndexOf(') ');
  if (end < 0) return undefined;
  const fields = stat.slice(end + 2).trim().split(' ');
  // From state (field 3), cutime and cstime are fields 16 and 17.
  const [cutime, cstime] = [Number(fields[13]), Number(fields[14])];
  return Number.isInteger(cutime) && Number.isInteger(cstime) ? cutime + cstime : undefined;
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** The CPU seconds every process reaped by these pids has used so far; undefined when one cannot be read. */
export async function reapedCpuSeconds(pids: readonly number[]): Promise<number | undefined> {
  let ticks = 0;
  for (const pid of pids) {
    const value = childCpuTicks(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''));
    if (value === undefined) return undefined;
    ticks += value;
  }
  return ticks / clockTicks();
}
