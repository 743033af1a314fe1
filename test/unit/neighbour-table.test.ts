import { describe, expect, it } from 'vitest';
import { limitsFor } from '../../src/lab/netns/neighbour-table.js';

// The machine-wide ARP table must hold an entry on each side of every lab host's link; at the
// kernel's defaults (512/1024) a thousand hosts overflow it and healthy hosts stop answering.

const defaults = { gc_thresh2: 512, gc_thresh3: 1024 };

describe('ARP table limits for a lab', () => {
  it('leaves the machine alone when the lab fits', () => {
    expect(limitsFor(3, defaults)).toBeUndefined();
    expect(limitsFor(0, defaults)).toBeUndefined();
  });

  it('raises both limits above what a thousand hosts need, with room for the rest of the machine', () => {
    const raised = limitsFor(1000, defaults);
    expect(raised).toBeDefined();
    // 1000 hosts: 1000 entries in the hosts, 1000 in the control namespace.
    expect(raised?.gc_thresh2).toBeGreaterThan(2000 + 256);
    expect(raised?.gc_thresh3).toBeGreaterThan(raised?.gc_thresh2 ?? Infinity);
  });

  it('never lowers what the machine has', () => {
    const big = { gc_thresh2: 100_000, gc_thresh3: 200_000 };
    expect(limitsFor(1000, big)).toBeUndefined();
    const onlyThresh3 = { gc_thresh2: 512, gc_thresh3: 500_000 };
    expect(limitsFor(1000, onlyThresh3)?.gc_thresh3).toBe(500_000);
  });
});
