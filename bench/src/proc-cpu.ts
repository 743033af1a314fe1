import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

// CPU times from /proc/PID/stat. A process's own (utime + stime) is what the status watch costs
// the control node. Its reaped children's (cutime + cstime) is what a run costs a lab host: each
// host's sshd is the parent of every login on it, and the kernel adds a process's CPU to its
// parent's "children" times when the parent reaps it. So the difference in a host sshd's cutime +
// cstime across a run is that run's logins, shells, scripts and the programs they waited for on
// that host. Processes left running (a daemon an apply started) are not in it:
// they outlive the run, and their parent is not sshd then.

/** The fields of a /proc/PID/stat line from its third (state) on; undefined when the line is not one. */
function fieldsAfterName(stat: string): string[] | undefined {
  // "pid (comm) state ppid ...": the name may itself hold ") ", so fields start after the last.
  const end = stat.lastIndexOf(') ');
  return end < 0 ? undefined : stat.slice(end + 2).trim().split(' ');
}

/** The sum of two fields (numbered as in proc(5)) of a stat line; undefined when either is not a number. */
function ticks(stat: string, first: number, second: number): number | undefined {
  const fields = fieldsAfterName(stat);
  const [a, b] = [Number(fields?.[first - 3]), Number(fields?.[second - 3])];
  return Number.isInteger(a) && Number.isInteger(b) ? a + b : undefined;
}

/** utime + stime (fields 14 and 15): the process's own CPU, in clock ticks. */
export const ownCpuTicks = (stat: string): number | undefined => ticks(stat, 14, 15);

/** cutime + cstime (fields 16 and 17): the CPU of the children it reaped, in clock ticks. */
export const childCpuTicks = (stat: string): number | undefined => ticks(stat, 16, 17);

let ticksPerSecond: number | undefined;

/** Clock ticks per second (getconf CLK_TCK; 100 on Linux). */
export function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** The CPU seconds every process reaped by these pids has used so far; undefined when one cannot be read. */
export async function reapedCpuSeconds(pids: readonly number[]): Promise<number | undefined> {
  let total = 0;
  for (const pid of pids) {
    const value = childCpuTicks(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''));
    if (value === undefined) return undefined;
    total += value;
  }
  return total / clockTicks();
}
