import { describe, expect, it } from 'vitest';
import { firstEventAt, stampedEvents } from '../support/ha-lab.js';

// The failover e2e files time a takeover by the kernel's own events, `ip -ts monitor` in the lab
// hosts; these are lines it printed (iproute2 6.1).

const address = [
  '[2026-11-30T13:42:06.886362] 3: d0    inet 198.51.100.50/32 scope global d0:1',
  '       valid_lft forever preferred_lft forever',
  '[2026-11-30T13:42:06.939170] Deleted 3: d0    inet 198.51.100.50/32 scope global d0:1',
].join('\n');
const neigh = [
  '[2026-11-30T13:42:06.895305] 198.51.100.7 lladdr 52:54:00:00:00:01 STALE ',
  '[2026-11-30T13:42:06.912345] 198.51.100.7 lladdr 52:54:00:00:00:02 REACHABLE ',
  '[2026-11-30T13:42:06.934557] Deleted 198.51.100.7 lladdr 52:54:00:00:00:02 PERMANENT ',
].join('\n');

describe('takeover marks from ip -ts monitor', () => {
  it('gives the first matching event in ms of the clock (UTC)', () => {
    expect(firstEventAt(address, (line) => line.includes(' 198.51.100.50/'))).toBe(Date.UTC(2026, 10, 30, 13, 42, 6, 886));
    expect(firstEventAt(neigh, (line) => line.startsWith('198.51.100.7 ') && line.includes('lladdr 52:54:00:00:00:02'))).toBe(Date.UTC(2026, 10, 30, 13, 42, 6, 912));
  });

  it('skips deletions only when asked, and reads NaN when nothing matched', () => {
    expect(firstEventAt(address, (line) => line.startsWith('Deleted'))).toBe(Date.UTC(2026, 10, 30, 13, 42, 6, 939));
    expect(firstEventAt(neigh, (line) => line.includes('52:54:00:00:00:03'))).toBeNaN();
    expect(firstEventAt('', () => true)).toBeNaN();
  });

  it('lists every stamped event with its time, the continuation lines left out', () => {
    expect(stampedEvents(address)).toEqual([
      { at: Date.UTC(2026, 10, 30, 13, 42, 6, 886), event: '3: d0    inet 198.51.100.50/32 scope global d0:1' },
      { at: Date.UTC(2026, 10, 30, 13, 42, 6, 939), event: 'Deleted 3: d0    inet 198.51.100.50/32 scope global d0:1' },
    ]);
    expect(stampedEvents('')).toEqual([]);
  });

  it("takes a line's last stamp where it has two (an event with no text before it, on a router's neighbour monitor)", () => {
    const twice = '[2026-12-08T01:59:13.227916] [2026-12-08T01:59:21.526465] 198.51.100.51 lladdr 76:6b:ab:42:3d:94 STALE ';
    expect(stampedEvents(twice)).toEqual([{ at: Date.UTC(2026, 11, 8, 1, 59, 21, 526), event: '198.51.100.51 lladdr 76:6b:ab:42:3d:94 STALE ' }]);
    expect(firstEventAt(twice, (line) => line.startsWith('198.51.100.51 ') && line.includes('lladdr 76:6b:ab:42:3d:94'))).toBe(Date.UTC(2026, 11, 8, 1, 59, 21, 526));
  });
});
