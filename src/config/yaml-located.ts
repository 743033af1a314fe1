import type { Node } from 'yaml';
import { yamlLibrary } from './yaml-library.js';

// Where each node of a YAML file was written, by the keys and indexes that lead to it: all a
// problem found after parsing (by zod, a cross-check, variable resolution) needs to point at the
// line and column to change. Both ways of reading a file (the quick reader and the YAML library)
// produce this one shape, so locating a problem is one piece of code.

/**
 * A scalar's (or alias's) offset, a collection with its parts, or (from the quick reader) a one-line
 * flow collection whose parts are read only when a problem is located inside it, as -1 - its offset.
 */
export type Located = number | LocatedMap | LocatedSeq;

/** Reads the parts of the flow collection at `offset`, kept as -1 - offset. */
export type ExpandFlow = (offset: number) => LocatedMap | LocatedSeq;

export interface LocatedMap {
  readonly offset: number;
  /**
   * Each entry as three slots: its name, the offset of its key, and its value's position (null when
   * the key has no value, `vip:`, so that the key is the place to point at). One array per mapping
   * rather than an object per entry: a 75,000-host inventory has a quarter of a million entries.
   */
  readonly entries: Array<string | number | Located | null>;
  /** Name -> slot, built for a large mapping searched many times. */
  index?: Map<string, number>;
  /** Searches done by scanning so far. */
  scans?: number;
}

export interface LocatedSeq {
  readonly offset: number;
  readonly items: ReadonlyArray<Located | null>;
}

export type PathSegment = string | number;

const offsetOf = (node: Located): number => (typeof node === 'number' ? (node < 0 ? -1 - node : node) : node.offset);

function isEmptyNode(node: unknown): boolean {
  const { isScalar } = yamlLibrary();
  return node === null || node === undefined || (isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1]);
}

/** The positions of a document composed by the YAML library, whose keys are checked scalars by now. */
export function locatedFromNode(node: Node | null | undefined): Located | null {
  const { isMap, isScalar, isSeq } = yamlLibrary();
  if (isEmptyNode(node)) return node?.range?.[0] ?? null;
  if (isMap(node)) {
    const entries: LocatedMap['entries'] = [];
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      entries.push(String(pair.key.value), pair.key.range?.[0] ?? 0, isEmptyNode(pair.value) ? null : locatedFromNode(pair.value as Node));
    }
    return { offset: node.range?.[0] ?? 0, entries };
  }
  if (isSeq(node)) return { offset: node.range?.[0] ?? 0, items: node.items.map((item) => (item ? locatedFromNode(item as Node) : null)) };
  return node?.range?.[0] ?? 0;
}

/** Searches of a large mapping done by scanning its entries, before it gets an index. */
const scansBeforeIndex = 8;

/**
 * The slot of `name` in a mapping's entries, or -1. A mapping of 75,000 hosts with a problem or two
 * is scanned; one searched many times gets an index.
 */
function slotOf(map: LocatedMap, name: string): number {
  if (!map.index && map.entries.length > 3 * 16) {
    map.scans = (map.scans ?? 0) + 1;
    if (map.scans > scansBeforeIndex) {
      map.index = new Map();
      for (let slot = map.entries.length - 3; slot >= 0; slot -= 3) map.index.set(map.entries[slot] as string, slot);
    }
  }
  if (map.index) return map.index.get(name) ?? -1;
  for (let slot = 0; slot < map.entries.length; slot += 3) if (map.entries[slot] === name) return slot;
  return -1;
}

/**
 * The offset of the deepest node that exists along `path`, and whether every segment was found. With
 * `atKey`, the last segment points at its mapping key rather than its value (for unknown keys).
 */
export function walkLocated(root: Located | null, path: readonly PathSegment[], atKey: boolean, expand?: ExpandFlow): { offset: number; complete: boolean } {
  let node: Located | null = root;
  let offset = root === null ? 0 : offsetOf(root);
  for (const [index, segment] of path.entries()) {
    if (typeof node === 'number' && node < 0 && expand) node = expand(-1 - node);
    if (node !== null && typeof node !== 'number' && 'entries' in node) {
      const slot = slotOf(node, String(segment));
      if (slot === -1) return { offset, complete: false };
      const key = node.entries[slot + 1] as number;
      if (index === path.length - 1 && atKey) return { offset: key, complete: true };
      node = node.entries[slot + 2] as Located | null;
      offset = node === null ? key : offsetOf(node);
    } else if (node !== null && typeof node !== 'number' && typeof segment === 'number') {
      const item = node.items[segment];
      if (item === undefined || item === null) return { offset, complete: false };
      node = item;
      offset = offsetOf(item);
    } else {
      return { offset, complete: false };
    }
  }
  return { offset, complete: true };
}
