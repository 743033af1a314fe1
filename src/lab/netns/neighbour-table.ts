import { readFile, writeFile } from 'node:fs/promises';

// The kernel keeps one ARP table for every network namespace of the machine, and its size limits
// (gc_thresh2, gc_thresh3: 512 and 1024 by default) are set only in the initial namespace. A lab
// host holds an entry for each address it talks to, and so does the control namespace for each
// host: at a thousand hosts the table overflows ("neighbor table overflow!") and the kernel drops
// packets to hosts whose entry it cannot add, which a run reports as unreachable or failed hosts.
// A lab that needs more raises the limits while it is up and puts back what it found.

const directory = '/proc/sys/net/ipv4/neigh/default';
const keys = ['gc_thresh2', 'gc_thresh3'] as const;
/** Entries left for the rest of the machine (its own LAN, other namespaces). */
const OTHERS = 256;

export interface NeighbourLimits {
  readonly gc_thresh2: number;
  readonly gc_thresh3: number;
}

export interface RaisedLimits {
  /** What the machine had before the lab raised them. */
  readonly original: NeighbourLimits;
  /** What the lab set: put back only while they are still these. */
  readonly raised: NeighbourLimits;
}

/**
 * The limits a lab of `interfaces` host interfaces needs, or undefined when the machine's fit: an
 * entry on each side of every host's link to the control namespace, twice over so that garbage
 * collection (which starts above gc_thresh2) need not run during a run, plus room for the rest of
 * the machine. Never lower than what the machine has.
 */
export function limitsFor(interfaces: number, current: NeighbourLimits): NeighbourLimits | undefined {
  const entries = 2 * interfaces;
  if (entries + OTHERS <= current.gc_thresh2) return undefined;
  return { gc_thresh2: Math.max(current.gc_thresh2, 2 * entries + OTHERS), gc_thresh3: Math.max(current.gc_thresh3, 4 * entries + 2 * OTHERS) };
}


async function readLimits(): Promise<NeighbourLimits> {
  const [gc_thresh2, gc_thresh3] = await Promise.all(keys.map(async (key) => Number((await readFile(`${directory}/${key}`, 'utf8')).trim())));
  return { gc_thresh2: gc_thresh2 as number, gc_thresh3: gc_thresh3 as number };
}

/** Write both limits; thresh3 first when it grows, last when it shrinks, so thresh2 never passes it. */
async function writeLimits(limits: NeighbourLimits, current: NeighbourLimits): Promise<void> {
  const order = limits.gc_thresh3 >= current.gc_thresh3 ? (['gc_thresh3', 'gc_thresh2'] as const) : keys;
  for (const key of order) await writeFile(`${directory}/${key}`, `${limits[key]}\n`);
}

/** Raise the limits when `interfaces` need more than the machine allows; undefined when they fit. */
export async function raiseLimitsFor(interfaces: number): Promise<RaisedLimits | undefined> {
  const original = await readLimits();
  const raised = limitsFor(interfaces, original);
  if (!raised) return undefined;
  await writeLimits(raised, original);
  return { original, raised };
}

/** Put back what the lab found, unless something else has changed the limits since. */
export async function restoreLimits(limits: RaisedLimits): Promise<void> {
  const current = await readLimits();
  if (current.gc_thresh2 !== limits.raised.gc_thresh2 || current.gc_thresh3 !== limits.raised.gc_thresh3) return;
  await writeLimits(limits.original, current);
}
