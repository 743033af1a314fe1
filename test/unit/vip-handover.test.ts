import { describe, expect, it } from 'vitest';
import type { PlannedChange } from '../../src/engine/events.js';
import { vipHandovers, vipTakeovers, type HandoverHost } from '../../src/engine/vip-handover.js';
import type { ChangePhase } from '../../src/resources/types.js';

// Who waits for whom within balance when a VIP moves between directors, pure: the old holders
// (a director removing the VIP after balance) and the new ones (a director announcing it in
// balance), and each new holder's wait for every old holder of that VIP.

const VIP = '198.51.100.50';
const VIP2 = '198.51.100.51';

const change = (summary: string, extra: Partial<PlannedChange>): PlannedChange => ({ resource: summary, summary, commands: [], task: 'test', ...extra });
/** A director's VIP leaving it in `phase` (pruned), as address.ts plans it. */
const removes = (address: string, phase: ChangePhase = 'withdraw'): PlannedChange => change(`address ${address} on eth0`, { phase, releases: [address] });
/** A director adding a VIP in balance and announcing it. */
const announces = (address: string): PlannedChange[] => [change(`address ${address} on eth0`, { phase: 'balance' }), { ...change(`address ${address} on eth0`, { phase: 'balance' }), announces: address }];
const director = (host: string, ...changes: PlannedChange[]): HandoverHost => ({ host, changes, directs: true });

const cases: Array<{ why: string; hosts: HandoverHost[]; waits: Record<string, Record<string, string[]>> }> = [
  { why: 'no VIP moves: a director removes one nobody takes, another adds one nobody gives up', hosts: [director('dir1', removes(VIP)), director('dir2', ...announces(VIP2))], waits: {} },
  { why: 'a VIP moves from dir1 to dir2: dir2 waits for dir1', hosts: [director('dir1', removes(VIP)), director('dir2', ...announces(VIP))], waits: { dir2: { [VIP]: ['dir1'] } } },
  { why: 'a VIP removed in retire moves the same', hosts: [director('dir1', removes(VIP, 'retire')), director('dir2', ...announces(VIP))], waits: { dir2: { [VIP]: ['dir1'] } } },
  { why: 'a removal already in balance (not a prune after it) is no hand-over: nothing waits', hosts: [director('dir1', removes(VIP, 'balance')), director('dir2', ...announces(VIP))], waits: {} },
  { why: 'two old holders (a split left by hand): dir2 waits for both', hosts: [director('dir1', removes(VIP)), director('dir2', ...announces(VIP)), director('dir3', removes(VIP))], waits: { dir2: { [VIP]: ['dir1', 'dir3'] } } },
  { why: 'two VIPs swapped between dir1 and dir2: each waits for the other, for the VIP it takes', hosts: [director('dir1', removes(VIP), ...announces(VIP2)), director('dir2', removes(VIP2), ...announces(VIP))], waits: { dir1: { [VIP2]: ['dir2'] }, dir2: { [VIP]: ['dir1'] } } },
  { why: 'a real server letting the VIP go from lo (it directs nothing) is no old holder', hosts: [{ host: 'rs1', changes: [removes(VIP, 'retire')], directs: false }, director('dir2', ...announces(VIP))], waits: {} },
  { why: 'one VIP announced by two new directors: each waits for dir1', hosts: [director('dir1', removes(VIP)), director('dir2', ...announces(VIP)), director('dir3', ...announces(VIP))], waits: { dir2: { [VIP]: ['dir1'] }, dir3: { [VIP]: ['dir1'] } } },
];

describe('which director waits for which to let a moved VIP go', () => {
  for (const { why, hosts, waits } of cases) {
    it(why, () => {
      const takeovers = vipTakeovers(vipHandovers(hosts));
      expect(Object.fromEntries([...takeovers].map(([host, vips]) => [host, Object.fromEntries(vips)]))).toEqual(waits);
    });
  }
});
