import { readFile } from 'node:fs/promises';

// How busy the whole machine was during a run: every core, every process (the tool, the hosts'
// sshds and the scripts they run all share it in the netns lab). A run near 100% is bound by CPU;
// one well below it waits on something else (its own concurrency limits, timers, the network).

export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

/** The aggregate `cpu` line of /proc/stat, in clock ticks; undefined where there is none. */
export async function machineCpuTimes(): Promise<CpuTimes | undefined> {
  const stat = await readFile('/proc/stat', 'utf8').catch(() => '');
  return parseCpuLine(stat.split('\n', 1)[0] ?? '');
}

export function parseCpuLine(line: string): CpuTimes | undefined {
  const fields = /^cpu\s+(.*)$/.exec(line)?.[1]?.trim().split(/\s+/).map(Number);
  if (!fields || fields.length < 4 || fields.some((value) => !Number.isFinite(value))) return undefined;
  // user nice system idle iowait irq softirq steal [guest guest_nice, already counted in user]
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const waiting = idle + iowait;
  const total = user + nice + system + waiting + irq + softirq + steal;
  return { busy: total - waiting, total };
}

/** The share of all cores busy between two readings, 0..1. */
export function busyShare(before: CpuTimes, after: CpuTimes): number | undefined {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : undefined;
}
