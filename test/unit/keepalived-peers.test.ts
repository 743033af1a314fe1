import { describe, expect, it } from 'vitest';
import { keepalived } from '../../src/resources/keepalived.js';
import { keepalivedConfig } from '../../src/resources/keepalived/config-text.js';
import { parseProbe } from '../../src/resources/keepalived/probe.js';
import { configPeers, droppedPeers } from '../../src/resources/keepalived/peers.js';
import { leftInstances, withoutInstances } from '../../src/resources/keepalived/live-instances.js';
import { keepalivedSchema, type KeepalivedSpec } from '../../src/resources/keepalived/schema.js';
import type { ClusterView } from '../../src/resources/types.js';

// A director dropped from a VRRP group must not be left running keepalived unseen: the directors
// that stay stop advertising to it, and it takes the VIPs as a second master. A director whose new
// config drops a peer plans only when the run retires that peer (it is a host of the run), or
// when the operator says it stopped (--stopped-peer); otherwise its plan is refused, naming the peer.

const instance = (peers: string[], extra: Record<string, unknown> = {}) => ({
  name: 'VI_51',
  virtual_router_id: 51,
  interface: 'eth0',
  state: 'MASTER' as const,
  priority: 254,
  unicast_src_ip: '192.0.2.10',
  unicast_peers: peers,
  vips: [{ address: '198.51.100.50', device: 'eth0', label: 'eth0:1' }],
  ...extra,
});
const spec = (peers: string[]): KeepalivedSpec => keepalivedSchema.parse({ instances: [instance(peers)] });

/** dir1's facts with `live` as its keepalived.conf, keepalived running. */
function factsWith(live: string) {
  const file = `F 644 ${Buffer.from(live).toString('base64')}`;
  return parseProbe({ stdout: ['K 1', file, 'R 1', 'M sysv', 'E enabled', 'T update-rc.d', 'I 0'].join('\n'), status: 0 });
}

const threeDirectors = keepalivedConfig(spec(['192.0.2.20', '192.0.2.30']));

const cluster = (inRun: string[], stopped: string[] = []): ClusterView => ({
  hostAt: new Map([
    ['192.0.2.10', 'dir1'],
    ['192.0.2.20', 'dir2'],
    ['192.0.2.30', 'dir3'],
    ['198.18.10.30', 'dir3'],
  ]),
  inRun: new Set(inRun),
  stoppedPeers: new Set(stopped),
  prunes: true,
});

describe('VRRP peers a director drops', () => {
  it('reads the unicast peers of a config lvsprov wrote, every instance', () => {
    const nat = keepalivedConfig(
      keepalivedSchema.parse({
        instances: [instance(['192.0.2.20']), instance(['198.18.10.20', '198.18.10.30'], { name: 'VI_52', virtual_router_id: 52, unicast_src_ip: '198.18.10.10', vips: [{ address: '198.18.10.1', device: 'eth1' }] })],
      }),
    );
    expect(configPeers(nat)).toEqual(['192.0.2.20', '198.18.10.20', '198.18.10.30']);
    expect(droppedPeers(spec(['192.0.2.20']), threeDirectors)).toEqual(['192.0.2.30']);
    expect(droppedPeers(spec(['192.0.2.20', '192.0.2.30']), threeDirectors)).toEqual([]);
    expect(droppedPeers(spec(['192.0.2.20']), undefined)).toEqual([]);
  });

  it('drops a peer instance by instance: one that leaves a group while it stays in another is dropped there', () => {
    const two = keepalivedSchema.parse({ instances: [instance(['192.0.2.20', '192.0.2.30']), instance(['192.0.2.30'], { name: 'VI_52', virtual_router_id: 52, vips: [{ address: '198.51.100.51', device: 'eth0' }] })] });
    const dir3LeavesVi51 = keepalivedSchema.parse({ instances: [instance(['192.0.2.20']), instance(['192.0.2.30'], { name: 'VI_52', virtual_router_id: 52, vips: [{ address: '198.51.100.51', device: 'eth0' }] })] });
    expect(droppedPeers(dir3LeavesVi51, keepalivedConfig(two))).toEqual(['192.0.2.30']);
    // This director leaving VI_52 itself drops no peer: its own reload without it stops it advertising there.
    expect(droppedPeers(spec(['192.0.2.20', '192.0.2.30']), keepalivedConfig(two))).toEqual([]);
  });

  it('a config without the instances a director leaves: their blocks, and a sync group left with one instance', () => {
    const nat = keepalivedSchema.parse({
      sync_groups: [{ name: 'SG_51', instances: ['VI_51', 'VI_52'] }],
      instances: [instance(['192.0.2.20']), instance(['198.18.10.20'], { name: 'VI_52', virtual_router_id: 52, unicast_src_ip: '198.18.10.10', vips: [{ address: '198.18.10.1', device: 'eth1' }] }), instance(['192.0.2.20'], { name: 'VI_53', virtual_router_id: 53, vips: [{ address: '198.51.100.53', device: 'eth0' }] })],
    });
    const only53 = keepalivedSchema.parse({ instances: [instance(['192.0.2.20'], { name: 'VI_53', virtual_router_id: 53, vips: [{ address: '198.51.100.53', device: 'eth0' }] })] });
    expect(leftInstances(only53, keepalivedConfig(nat)).map((left) => [left.name, left.vips])).toEqual([
      ['VI_51', [{ address: '198.51.100.50', prefix: 32, device: 'eth0', label: 'eth0:1' }]],
      ['VI_52', [{ address: '198.18.10.1', prefix: 32, device: 'eth1' }]],
    ]);
    expect(withoutInstances(keepalivedConfig(nat), new Set(['VI_51', 'VI_52']))).toBe(keepalivedConfig(only53));
    expect(withoutInstances(keepalivedConfig(nat), new Set(['VI_53']))).toBe(keepalivedConfig({ ...nat, instances: nat.instances.slice(0, 2) }));
  });

  const cases: Array<{ why: string; cluster: ClusterView | undefined; refused?: RegExp }> = [
    { why: 'the dropped director is a host of the run: its keepalived stops first', cluster: cluster(['dir1', 'dir2', 'dir3']) },
    { why: 'the operator stopped it (--stopped-peer)', cluster: cluster(['dir1', 'dir2'], ['192.0.2.30']) },
    { why: 'status and other callers without a cluster view plan as before', cluster: undefined },
    {
      why: 'a host of the run, but --tags leave tasks out: its keepalived is not pruned',
      cluster: { ...cluster(['dir1', 'dir2', 'dir3']), prunes: false },
      refused: /^VRRP peer 192\.0\.2\.30 .*dir3 has it, but --tags or --skip-tags leave tasks out, and such a run removes nothing.*--stopped-peer 192\.0\.2\.30; or apply without --tags and --skip-tags, and the apply stops its keepalived first$/,
    },
    {
      why: 'gone from the inventory',
      cluster: { ...cluster(['dir1', 'dir2']), hostAt: new Map([['192.0.2.20', 'dir2']]) },
      refused: /^VRRP peer 192\.0\.2\.30 .*no host of the inventory has that address.*second MASTER.*Stop keepalived on 192\.0\.2\.30 .*--stopped-peer 192\.0\.2\.30/,
    },
    {
      why: 'in the inventory but left out by --limit',
      cluster: { ...cluster(['dir1', 'dir2']), retirable: new Set() },
      refused: /^VRRP peer 192\.0\.2\.30 .*dir3 has it, but --limit leaves dir3 out of this run.*keep dir3 in the inventory and in the run \(in no play, or in the directors' play directing no service\)/,
    },
    { why: 'in the inventory, reached by no play: the run opens it to stop its keepalived first', cluster: { ...cluster(['dir1', 'dir2']), retirable: new Set(['dir3']) } },
    {
      why: 'reached by no play, but --tags or --skip-tags leave tasks out: nothing is pruned',
      cluster: { ...cluster(['dir1', 'dir2']), retirable: new Set(['dir3']), prunes: false },
      refused: /^VRRP peer 192\.0\.2\.30 .*dir3 has it, but --tags or --skip-tags leave tasks out.*or apply without --tags and --skip-tags/,
    },
  ];
  for (const { why, cluster: view, refused } of cases) {
    it(`${refused ? 'refuses' : 'plans'}: ${why}`, () => {
      const plan = () => keepalived.plan(spec(['192.0.2.20']), factsWith(threeDirectors), { host: 'dir1', ...(view ? { cluster: view } : {}) });
      if (refused) expect(plan).toThrow(refused);
      else expect(plan().map((change) => change.summary)).toEqual(['update /etc/keepalived/keepalived.conf (keepalived -t, then reload)']);
    });
  }

  it('a keepalived handed over to lvsprov (killed, no last advert) needs every peer retired too', () => {
    const declared = new Set(['address 198.51.100.50 on eth0']);
    const facts = factsWith(keepalivedConfig(spec(['192.0.2.20'])));
    const handOver = (view: ClusterView) => keepalived.reset?.plan(spec(['192.0.2.20']), facts, { host: 'dir1', declared, pruning: true, cluster: view });
    expect(() => handOver(cluster(['dir1']))).toThrow(/^VRRP peer 192\.0\.2\.20 .*dir2 has it, but --limit leaves dir2 out of this run/);
    expect(handOver(cluster(['dir1', 'dir2']))?.map((change) => change.phase)).toEqual(['retire', 'retire', 'retire']);
  });
});

// A group left for another that holds its VIPs (the VRRP id renumbered, or the VIP moved to another
// group of the same directors): a peer still running the old group takes the VIPs once this director
// leaves it, so the changes that bring the new group wait for that peer's host (Change.vrrpPeers).
describe('VRRP peers of a group left for another with its VIPs', () => {
  const renumbered = keepalivedSchema.parse({ instances: [instance(['192.0.2.20'], { name: 'VI_61', virtual_router_id: 61 })] });
  const live = factsWith(keepalivedConfig(spec(['192.0.2.20'])));
  const waited = (changes: ReturnType<typeof keepalived.plan>) => changes.map((change) => [change.summary.split(' (')[0]?.split(':')[0], change.phase, change.vrrpPeers ?? []]);

  it('renumbered: the leave goes first and waits for nobody; the new config and the start wait for the peer of the group left', () => {
    expect(waited(keepalived.plan(renumbered, live, { host: 'dir1' }))).toEqual([
      ['leave VRRP VI_51', 'prepare', []],
      ['update /etc/keepalived/keepalived.conf', 'balance', ['192.0.2.20']],
      ['start keepalived', 'balance', ['192.0.2.20']],
    ]);
  });

  it('a group left whose VIPs no new group holds (the director only leaves it) waits for nobody', () => {
    const elsewhere = keepalivedSchema.parse({ instances: [instance(['192.0.2.20'], { name: 'VI_61', virtual_router_id: 61, vips: [{ address: '198.51.100.60', device: 'eth0', label: 'eth0:2' }] })] });
    expect(keepalived.plan(elsewhere, live, { host: 'dir1' }).flatMap((change) => change.vrrpPeers ?? [])).toEqual([]);
  });
});
