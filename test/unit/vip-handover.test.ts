import { describe, expect, it } from 'vitest';
import type { PlannedChange } from '../../src/engine/events.js';
import { takeoverExec, vipHandovers, vipTakeovers, type HandoverHost } from '../../src/engine/vip-handover.js';
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
  { why: "keepalived stopping on a director lets its VIPs go (lvs.ha: keepalived moves them itself): no old holder, no wait, no check", hosts: [director('dir1', { ...change('keepalived', { phase: 'retire' }), releases: [VIP] }), director('dir2', ...announces(VIP))], waits: {} },
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

// The new holder's second exec, pure: which of its waiting adds and announces run, and where the
// segment is asked first (an old holder whose release was not heard).
const waitingFor = (address: string, from: string[], check = true): PlannedChange[] => {
  const awaitsRelease = { address, from };
  const add = change(`address ${address} on eth0: (absent) -> ${address}/32`, { phase: 'balance', awaitsRelease });
  const announce = change(`announce ${address} on eth0`, { phase: 'balance', announces: address, awaitsRelease, ...(check ? { holderCheck: { summary: `ask about ${address}`, command: `dad ${address}` } } : {}) });
  return [add, announce];
};
const shown = (changes: readonly PlannedChange[]): string[] => changes.map((entry) => `${entry.commands.join(';') || entry.summary}${entry.awaitsRelease ? ` [waits ${entry.awaitsRelease.address}]` : ''}`);

const execCases: Array<{ why: string; waiting: PlannedChange[]; unreleased: Record<string, string[]>; exec: string[]; held?: Record<string, string> }> = [
  {
    why: 'every old holder let it go (the normal path): the add and the announce as planned, no check, no arping',
    waiting: waitingFor(VIP, ['dir1']),
    unreleased: {},
    exec: [`address ${VIP} on eth0: (absent) -> ${VIP}/32 [waits ${VIP}]`, `announce ${VIP} on eth0 [waits ${VIP}]`],
  },
  {
    why: 'the old holder failed or was lost: the segment is asked right before the add, once',
    waiting: waitingFor(VIP, ['dir1']),
    unreleased: { [VIP]: ['dir1'] },
    exec: [`dad ${VIP} [waits ${VIP}]`, `address ${VIP} on eth0: (absent) -> ${VIP}/32 [waits ${VIP}]`, `announce ${VIP} on eth0 [waits ${VIP}]`],
  },
  {
    why: 'two VIPs, one let go and one not: only the one not let go is asked after',
    waiting: [...waitingFor(VIP, ['dir1']), ...waitingFor(VIP2, ['dir3'])],
    unreleased: { [VIP2]: ['dir3'] },
    exec: [`address ${VIP} on eth0: (absent) -> ${VIP}/32 [waits ${VIP}]`, `announce ${VIP} on eth0 [waits ${VIP}]`, `dad ${VIP2} [waits ${VIP2}]`, `address ${VIP2} on eth0: (absent) -> ${VIP2}/32 [waits ${VIP2}]`, `announce ${VIP2} on eth0 [waits ${VIP2}]`],
  },
  {
    why: 'no check to run (an announce that cannot ask): held back as before, with the hosts that did not let it go',
    waiting: waitingFor(VIP, ['dir1', 'dir3'], false),
    unreleased: { [VIP]: ['dir1', 'dir3'] },
    exec: [],
    held: { [VIP]: `dir1, dir3 did not let ${VIP} go (it failed or stopped before its removal ended) and nothing here can ask the segment whether it still holds it: two holders split the router's clients; apply again once it is reachable or no longer holds it` },
  },
];

describe("a new holder's second exec", () => {
  for (const { why, waiting, unreleased, exec, held } of execCases) {
    it(why, () => {
      const result = takeoverExec(waiting, new Map(Object.entries(unreleased)));
      expect(shown(result.changes)).toEqual(exec);
      expect(Object.fromEntries(result.held)).toEqual(held ?? {});
    });
  }

  it("the check names the hosts that did not let the VIP go and belongs to the announce's task", () => {
    const [check] = takeoverExec(waitingFor(VIP, ['dir1']).map((entry) => ({ ...entry, task: 'VIP', role: 'director' })), new Map([[VIP, ['dir1']]])).changes;
    expect(check).toMatchObject({ summary: `ask about ${VIP}: dir1 did not let it go as far as this run knows (failed, or lost before its removal's end was heard)`, task: 'VIP', role: 'director', phase: 'balance', resource: `address ${VIP} on eth0: (absent) -> ${VIP}/32` });
  });
});
