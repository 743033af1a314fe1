import { describe, expect, it } from 'vitest';
import { gatewayMoveBlocked, handoverBlocked, retireBlocked, type HostStanding } from '../../src/engine/hold-back.js';

// A director that hands its keepalived's VIPs over to lvsprov kills keepalived in its retire wave;
// a VRRP peer still running would take the VIPs three adverts later. Its retire waits while a peer
// failed before stopping its own keepalived.

const hosts = new Map([
  ['192.0.2.10', 'dir1'],
  ['192.0.2.20', 'dir2'],
]);
const dir1 = (peers: string[]): HostStanding => ({ host: 'dir1', planned: true, director: true, leaving: [], vrrpPeers: peers });
const dir2 = (stopped?: HostStanding['stopped']): HostStanding => ({ host: 'dir2', planned: stopped !== 'unreachable', director: true, leaving: [], ...(stopped ? { stopped } : {}) });

describe('a keepalived hand-over waits for its VRRP peers', () => {
  const cases: Array<{ why: string; standings: HostStanding[]; blocked: Array<[string, string]> }> = [
    { why: 'the peer stopped its keepalived (its withdraw ran): the hand-over goes ahead', standings: [dir1(['192.0.2.20']), dir2()], blocked: [] },
    {
      why: 'the peer failed: its keepalived may still run',
      standings: [dir1(['192.0.2.20']), dir2('failed')],
      blocked: [['dir1', 'its VRRP peer dir2 (192.0.2.20) failed before its keepalived stopped, and would take the VIPs kept here']],
    },
    {
      why: 'the peer was unreachable',
      standings: [dir1(['192.0.2.20']), dir2('unreachable')],
      blocked: [['dir1', 'its VRRP peer dir2 (192.0.2.20) was unreachable before its keepalived stopped, and would take the VIPs kept here']],
    },
    { why: 'a peer outside the inventory is not known to have failed (see the README: stop it first)', standings: [dir1(['192.0.2.30']), dir2('failed')], blocked: [] },
    { why: 'no hand-over: nothing waits', standings: [dir1([]), dir2('failed')], blocked: [] },
  ];
  for (const { why, standings, blocked } of cases) {
    it(why, () => {
      expect([...handoverBlocked(standings, hosts)]).toEqual(blocked);
    });
  }
});

// A real server whose replies move to another director gateway in the reroute wave: the new one
// may be an address a director adds only in balance (keepalived's floating gateway). Once a
// director stopped, nobody may hold it: the move waits, and the old gateway keeps serving.
describe('a gateway move waits while a director stopped', () => {
  const realServer = (host: string): HostStanding => ({ host, planned: true, director: false, leaving: [] });
  const cases: Array<{ why: string; standings: HostStanding[]; blocked: Array<[string, string]> }> = [
    { why: 'every director went through balance', standings: [dir2(), realServer('rs1')], blocked: [] },
    {
      why: 'a director failed',
      standings: [dir2('failed'), realServer('rs1')],
      blocked: [['rs1', 'director dir2 failed before the reroute wave: the gateway its replies move to may be held by nobody']],
    },
    {
      why: 'a director was unreachable',
      standings: [dir2('unreachable'), realServer('rs1')],
      blocked: [['rs1', 'director dir2 was unreachable before the reroute wave: the gateway its replies move to may be held by nobody']],
    },
    { why: 'a real server failed: no gateway is in doubt', standings: [dir2(), { ...realServer('rs2'), stopped: 'failed' }, realServer('rs1')], blocked: [] },
  ];
  it.each(cases)('$why', ({ standings, blocked }) => {
    expect([...gatewayMoveBlocked(['rs1'], standings)]).toEqual(blocked);
  });

  it('nothing moves: nothing waits', () => {
    expect([...gatewayMoveBlocked([], [dir2('failed')])]).toEqual([]);
  });
});

// A real server keeps its VIP while a director that may still send to it failed before it withdrew
// it. A director whose plan is not known (its connect or read failed) may hold any host it held
// before: also one the inventory lists as a real server no more (it left every service).
describe("a real server's retire waits for the directors that may still send to it", () => {
  const everyHost = new Map([
    ['192.0.2.10', 'dir1'],
    ['192.0.2.41', 'rs1'],
    ['192.0.2.42', 'rs2'],
  ]);
  const realServers = new Map([['192.0.2.42', 'rs2']]);
  const rs = (host: string): HostStanding => ({ host, planned: true, director: false, leaving: [] });
  const cases: Array<{ why: string; director: HostStanding; blocked: string[] }> = [
    { why: 'the director withdrew what it had to: nothing waits', director: { host: 'dir1', planned: true, director: true, leaving: [] }, blocked: [] },
    {
      why: 'the director failed before it withdrew rs1, which left every service: rs1 waits',
      director: { host: 'dir1', planned: true, director: true, leaving: [{ service: ['-t', '198.51.100.50:80'], server: '192.0.2.41:80', address: '192.0.2.41' }], stopped: 'failed' },
      blocked: ['rs1'],
    },
    {
      why: 'the director failed before it drained what rs2 took through a VIP its marks left: rs2 waits (it would drop that VIP under them)',
      director: { host: 'dir1', planned: true, director: true, leaving: [], unmarked: [{ service: ['-f', '1'], server: '192.0.2.42:0', address: '192.0.2.42', vips: ['198.51.100.51'] }], stopped: 'failed' },
      blocked: ['rs2'],
    },
    {
      why: 'the director was unreachable before its plan was known: every host but the directors waits, rs1 (no longer a real server) too',
      director: { host: 'dir1', planned: false, director: true, leaving: [], stopped: 'unreachable' },
      blocked: ['rs2', 'rs1'],
    },
    {
      // The random walk with a failing host (seed 3, step 4): dir2 lost its role and was
      // unreachable; rs3 took its VIP off lo under the connections dir2 still sent it.
      why: 'a host the run no longer makes a director, unreachable before its plan was known: it may have directed until now, and still send; every host but the directors waits',
      director: { host: 'dir1', planned: false, director: false, leaving: [], stopped: 'unreachable' },
      blocked: ['rs2', 'rs1'],
    },
  ];
  for (const { why, director, blocked } of cases) {
    it(why, () => {
      expect([...retireBlocked(realServers, [director, rs('rs1'), rs('rs2')], everyHost).keys()]).toEqual(blocked);
    });
  }

  it('a real server of the inventory that was unreachable directs nothing: nothing waits for it', () => {
    expect([...retireBlocked(realServers, [{ host: 'dir1', planned: true, director: true, leaving: [] }, rs('rs1'), { ...rs('rs2'), planned: false, stopped: 'unreachable' }], everyHost).keys()]).toEqual([]);
  });
});
