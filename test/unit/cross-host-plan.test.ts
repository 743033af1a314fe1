import { describe, expect, it } from 'vitest';
import type { PlannedChange } from '../../src/engine/events.js';
import { applyCluster, compiledTask, planCluster, type Inventory, type SimHost } from '../support/cluster-sim.js';
import { trafficProblems } from '../support/cluster-traffic.js';
import { checkLvsOrder, director, drainKey, lines, marked, realServer, rs, tcp, vip, type Server, type Service } from '../support/cross-host-cases.js';

// The cross-host plan of a live cluster moving from one inventory to the next, for the
// transitions operators make: the real host planners (pruning included) on simulated hosts that
// an apply of the first inventory left behind, then the waves. Each case lists every change in
// the order the apply runs it and the drains; every case must also keep LVS's order (a real
// server is ready before a director sends to it, a director lets go of it before it loses its
// VIP) and carry the traffic as the hosts stand wave by wave (cluster-traffic.ts: no open
// connection cut, no new connection refused), and a second apply of the new inventory must change
// nothing.

const V1 = '198.51.100.50';
const V2 = '198.51.100.51';
const V3 = '198.51.100.52';
const RS1 = '192.0.2.11';
const RS2 = '192.0.2.12';
const RS3 = '192.0.2.13';

interface Case {
  name: string;
  before: Inventory;
  after: Inventory;
  /** `phase host: summary`, in the order the apply runs them. */
  changes: string[];
  drains: Array<[string, string[]]>;
  /** Hosts whose pool web server restarts in retire in the move to `after` (a port or config change). */
  restarts?: string[];
}

const web = (servers: Server[], extra: Record<string, unknown> = {}): Service => tcp(V1, 80, servers, extra);

/** A real server's web server restarting in retire (service.ts, pool standing quiesced): the simulation models no service task. */
const restart = (host: string): PlannedChange => ({ resource: 'service lvsprov-web', summary: 'restart lvsprov-web (start-stop-daemon): its arguments changed', commands: [], phase: 'retire', restartsPool: true, task: `${host} web server` });
const webRestarts = (host: string): string => `retire ${host}: restart lvsprov-web (start-stop-daemon): its arguments changed`;

// The plan lines that recur: a service added with its servers (balance), its servers quiesced
// (balance) and the service deleted (withdraw), a VIP leaving real servers (retire).
const added = (service: string, servers: string[], host = 'dir1'): string[] => [
  `balance ${host}: add service ${service} (wrr)`,
  ...servers.map((server) => `balance ${host}: add real server ${server} (dr, weight 1) to ${service}`),
];
const quiesced = (service: string, servers: string[], host = 'dir1'): string[] => servers.map((server) => `balance ${host}: quiesce real server ${server} in ${service} (weight 1 -> 0, then drain)`);
/** A director new to fwmark service 1 (dir2): its service and servers, its marks, then the VIP it takes over from dir1 and its announce. */
const marksArrive = (vip: string, servers: string[]): string[] => [
  'balance dir2: add service FWM 1 (wrr, persistent 300s)',
  ...servers.map((server) => `balance dir2: add real server ${server} (dr, weight 1) to FWM 1`),
  'balance dir2: create /etc/ipvsadm.rules',
  'balance dir2: create /etc/lvsprov/fwmark.nft',
  'balance dir2: nftables table lvsprov_fwmark: (absent) -> 1 mark rule',
  `balance dir2 once dir1 let ${vip} go: address ${vip} on eth0: (absent) -> ${vip}/32 label eth0`,
  `balance dir2 once dir1 let ${vip} go: announce ${vip} on eth0 (gratuitous ARP)`,
];
const deleted = (service: string, detail = 'wrr, 2 real servers', host = 'dir1'): string => `withdraw ${host}: remove service ${service} (${detail})`;
const vipOff = (address: string, device: string, hosts: string[]): string[] => hosts.map((host) => `retire ${host}: address ${address} on ${device}: ${address}/32 label ${device} -> (absent)`);
const ports = (port: number, ...addresses: string[]): string[] => addresses.map((address) => `${address}:${port}`);
/** rs3 leaves the web service: quiesced, deleted after the drain, then its VIP goes. */
const rs3LeavesWeb = [
  ...quiesced(`TCP ${V1}:80`, [`${RS3}:80`]),
  `withdraw dir1: remove real server ${RS3}:80 (dr, weight 1) from TCP ${V1}:80`,
  'withdraw dir1: update /etc/ipvsadm.rules',
  ...vipOff(V1, 'lo', ['rs3']),
];
/** rs1 and rs2 leave a service of dir1 that goes, and its VIP then leaves dir1 and them. */
const serviceGoes = (vip: string): string[] => [
  ...quiesced(`TCP ${vip}:80`, ports(80, RS1, RS2)),
  deleted(`TCP ${vip}:80`),
  'withdraw dir1: update /etc/ipvsadm.rules',
  ...vipOff(vip, 'eth0', ['dir1']),
  ...vipOff(vip, 'lo', ['rs1', 'rs2']),
];

const cases: Case[] = [
  {
    name: "a director's only service set absent (the ipvs task owns nothing then): quiesced, drained and deleted once",
    before: { dir1: director([web(rs(RS1, RS2))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: director([{ ...web(rs(RS1, RS2)), state: 'absent' }]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    changes: [...quiesced(`TCP ${V1}:80`, ports(80, RS1, RS2)), deleted(`TCP ${V1}:80`), 'withdraw dir1: update /etc/ipvsadm.rules'],
    drains: [['dir1', [`-t ${V1}:80 ${RS1}:80`, `-t ${V1}:80 ${RS2}:80`]]],
  },
  {
    name: 'every service of a purging ipvs task dropped: each quiesced, drained and deleted once',
    before: { dir1: [vip(V1, 'eth0', true), compiledTask('IPVS virtual services', 'ipvs', { services: [web(rs(RS1, RS2))], purge: true })], rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: [vip(V1, 'eth0', true), compiledTask('IPVS virtual services', 'ipvs', { services: [], purge: true })], rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    changes: [...quiesced(`TCP ${V1}:80`, ports(80, RS1, RS2)), deleted(`TCP ${V1}:80`), 'withdraw dir1: update /etc/ipvsadm.rules'],
    drains: [['dir1', [`-t ${V1}:80 ${RS1}:80`, `-t ${V1}:80 ${RS2}:80`]]],
  },
  {
    name: 'a whole virtual service removed: quiesced, drained, deleted, and only then its VIP leaves the director and the real servers',
    before: { dir1: director([web(rs(RS1, RS2)), tcp(V2, 80, rs(RS1, RS2))]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo'], [V2, 'lo']) },
    after: { dir1: director([web(rs(RS1, RS2))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    changes: [
      ...serviceGoes(V2),
    ],
    drains: [['dir1', [`-t ${V2}:80 ${RS1}:80`, `-t ${V2}:80 ${RS2}:80`]]],
  },
  {
    name: 'a VIP renumbered: the new VIP is on the real servers before the director sends to it, the old leaves them after the director deleted its service',
    before: { dir1: director([web(rs(RS1, RS2))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: director([tcp(V3, 80, rs(RS1, RS2))]), rs1: realServer([V3, 'lo']), rs2: realServer([V3, 'lo']) },
    changes: [
      `prepare rs1: address ${V3} on lo: (absent) -> ${V3}/32 label lo`,
      `prepare rs2: address ${V3} on lo: (absent) -> ${V3}/32 label lo`,
      ...added(`TCP ${V3}:80`, ports(80, RS1, RS2)),
      'balance dir1: update /etc/ipvsadm.rules',
      `balance dir1: address ${V3} on eth0: (absent) -> ${V3}/32 label eth0`,
      `balance dir1: announce ${V3} on eth0 (gratuitous ARP)`,
      ...serviceGoes(V1),
    ],
    drains: [['dir1', [`-t ${V1}:80 ${RS1}:80`, `-t ${V1}:80 ${RS2}:80`]]],
  },
  {
    name: 'a real server moved from one service to another: added to the new before it is quiesced in the old; its old VIP goes after the drain',
    before: { dir1: director([web(rs(RS1, RS2, RS3)), tcp(V2, 80, rs(RS1, RS2))]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo'], [V2, 'lo']), rs3: realServer([V1, 'lo']) },
    after: { dir1: director([web(rs(RS1, RS2)), tcp(V2, 80, rs(RS1, RS2, RS3))]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo'], [V2, 'lo']), rs3: realServer([V2, 'lo']) },
    changes: [
      `prepare rs3: address ${V2} on lo: (absent) -> ${V2}/32 label lo`,
      `balance dir1: add real server ${RS3}:80 (dr, weight 1) to TCP ${V2}:80`,
      ...rs3LeavesWeb,
    ],
    drains: [['dir1', [`-t ${V1}:80 ${RS3}:80`]]],
  },
  {
    name: 'one real server switched from DR to TUN: its VIP is on tunl0 before the director tunnels to it, and leaves lo only in retire',
    before: { dir1: director([web(rs(RS1, RS2))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: director([web([{ address: RS1 }, { address: RS2, forwarding: 'tun' }])]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'tunl0']) },
    changes: [
      `prepare rs2: address ${V1} on tunl0: (absent) -> ${V1}/32 label tunl0 (tunl0 does not exist yet)`,
      `balance dir1: real server ${RS2}:80 forwarding dr -> tun in TCP ${V1}:80`,
      'balance dir1: update /etc/ipvsadm.rules',
      // The pin set with the switch (next-hop-pin.ts) goes once the drain is over.
      `withdraw dir1: ${RS2}:80 in TCP ${V1}:80: its next-hop pin goes (the tun switch drained)`,
      `retire rs2: address ${V1} on lo: ${V1}/32 label lo -> (absent)`,
    ],
    // The connections made by DR before the switch, drained before rs2's VIP leaves lo.
    drains: [['dir1', [`-t ${V1}:80 ${RS2}:80`]]],
  },
  {
    name: 'one real server switched from TUN back to DR',
    before: { dir1: director([web([{ address: RS1 }, { address: RS2, forwarding: 'tun' }])]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'tunl0']) },
    after: { dir1: director([web(rs(RS1, RS2))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    changes: [
      `prepare rs2: address ${V1} on lo: (absent) -> ${V1}/32 label lo`,
      `balance dir1: real server ${RS2}:80 forwarding tun -> dr in TCP ${V1}:80`,
      'balance dir1: update /etc/ipvsadm.rules',
      `withdraw dir1: ${RS2}:80 in TCP ${V1}:80: its next-hop pin goes (the dr switch drained)`,
      `retire rs2: address ${V1} on tunl0: ${V1}/32 label tunl0 -> (absent)`,
    ],
    drains: [['dir1', [`-t ${V1}:80 ${RS2}:80`]]],
  },
  {
    name: 'a port changed: the new service is added before the old is quiesced; the VIP stays everywhere',
    before: { dir1: director([web(rs(RS1, RS2))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: director([tcp(V1, 8080, rs(RS1, RS2))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    changes: [
      ...added(`TCP ${V1}:8080`, ports(8080, RS1, RS2)),
      'balance dir1: update /etc/ipvsadm.rules',
      ...quiesced(`TCP ${V1}:80`, ports(80, RS1, RS2)),
      deleted(`TCP ${V1}:80`),
      'withdraw dir1: update /etc/ipvsadm.rules',
    ],
    drains: [['dir1', [`-t ${V1}:80 ${RS1}:80`, `-t ${V1}:80 ${RS2}:80`]]],
  },
  {
    name: 'a server set to weight 0 is quiesced and kept: no drain, no deletion, its VIP stays',
    before: { dir1: director([web(rs(RS1, RS2))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: director([web([{ address: RS1 }, { address: RS2, weight: 0 }])]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    changes: [
      'balance dir1: update /etc/ipvsadm.rules',
      `balance dir1: real server ${RS2}:80 weight 1 -> 0 in TCP ${V1}:80`,
    ],
    drains: [],
  },
  {
    // Found by the random walk (cross-host-random.test.ts): set to 0 first, rs1 left the service
    // with no server at a weight above 0 until rs2 was added, and a new connection in between was refused.
    name: "a service's only weighted server set to weight 0 beside a server added to it: the new one is in before the old one stops taking connections",
    before: { dir1: director([web(rs(RS1))]), rs1: realServer([V1, 'lo']), rs2: [] },
    after: { dir1: director([web([{ address: RS1, weight: 0 }, { address: RS2 }])]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    changes: [
      `prepare rs2: address ${V1} on lo: (absent) -> ${V1}/32 label lo`,
      `balance dir1: add real server ${RS2}:80 (dr, weight 1) to TCP ${V1}:80`,
      'balance dir1: update /etc/ipvsadm.rules',
      `balance dir1: real server ${RS1}:80 weight 1 -> 0 in TCP ${V1}:80`,
    ],
    drains: [],
  },
  {
    name: 'a server set to weight 0 whose web server restarts in the same apply: drained after balance like a leaving server, not deleted, then restarted',
    before: { dir1: director([web(rs(RS1, RS2))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: director([web([{ address: RS1 }, { address: RS2, weight: 0 }])]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    restarts: ['rs2'],
    changes: [
      'balance dir1: update /etc/ipvsadm.rules',
      `balance dir1: real server ${RS2}:80 weight 1 -> 0 in TCP ${V1}:80`,
      webRestarts('rs2'),
    ],
    drains: [['dir1', [`-t ${V1}:80 ${RS2}:80`]]],
  },
  {
    name: 'a server at weight 0 already whose web server restarts: drained before the restart, kept; one still weighted that restarts is not drained (its restart is refused: service.ts)',
    before: { dir1: director([web([{ address: RS1 }, { address: RS2, weight: 0 }]), tcp(V2, 80, rs(RS1, RS2))]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo'], [V2, 'lo']) },
    after: { dir1: director([web([{ address: RS1 }, { address: RS2, weight: 0 }]), tcp(V2, 80, [{ address: RS1 }, { address: RS2, weight: 0 }])]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo'], [V2, 'lo']) },
    restarts: ['rs2'],
    changes: [
      'balance dir1: update /etc/ipvsadm.rules',
      `balance dir1: real server ${RS2}:80 weight 1 -> 0 in TCP ${V2}:80`,
      webRestarts('rs2'),
    ],
    drains: [['dir1', [`-t ${V1}:80 ${RS2}:80`, `-t ${V2}:80 ${RS2}:80`]]],
  },
  {
    name: 'a fwmark server set to weight 0 whose web server restarts while another leaves: both drained on the VIPs of their mark, only the leaving one deleted',
    before: { dir1: director([marked(1, rs(RS1, RS2, RS3))], [{ address: V1, ports: [80, 8080], mark: 1 }]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']), rs3: realServer([V1, 'lo']) },
    after: { dir1: director([marked(1, [{ address: RS1 }, { address: RS2, weight: 0 }])], [{ address: V1, ports: [80, 8080], mark: 1 }]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']), rs3: [] },
    restarts: ['rs2'],
    changes: [
      `balance dir1: real server ${RS2}:0 weight 1 -> 0 in FWM 1`,
      ...quiesced('FWM 1', [`${RS3}:0`]),
      `withdraw dir1: remove real server ${RS3}:0 (dr, weight 1) from FWM 1`,
      'withdraw dir1: update /etc/ipvsadm.rules',
      webRestarts('rs2'),
      ...vipOff(V1, 'lo', ['rs3']),
    ],
    drains: [['dir1', [`-f 1 ${RS3}:0 to ${V1}`, `-f 1 ${RS2}:0 to ${V1}`]]],
  },
  {
    name: 'a server at weight 0 back to weight 3: one edit in balance',
    before: { dir1: director([web([{ address: RS1 }, { address: RS2, weight: 0 }])]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: director([web([{ address: RS1 }, { address: RS2, weight: 3 }])]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    changes: [
      `balance dir1: real server ${RS2}:80 weight 0 -> 3 in TCP ${V1}:80`,
      'balance dir1: update /etc/ipvsadm.rules',
    ],
    drains: [],
  },
  {
    name: 'persistence added to one service, its timeout changed on another, removed from a third: edits in balance, no server leaves',
    before: {
      dir1: director([web(rs(RS1, RS2)), tcp(V2, 80, rs(RS1, RS2), { persistence: { timeout: 300 } }), tcp(V3, 80, rs(RS1, RS2), { persistence: { timeout: 300 } })]),
      rs1: realServer([V1, 'lo'], [V2, 'lo'], [V3, 'lo']),
      rs2: realServer([V1, 'lo'], [V2, 'lo'], [V3, 'lo']),
    },
    after: {
      dir1: director([web(rs(RS1, RS2), { persistence: { timeout: 600 } }), tcp(V2, 80, rs(RS1, RS2), { persistence: { timeout: 900 } }), tcp(V3, 80, rs(RS1, RS2))]),
      rs1: realServer([V1, 'lo'], [V2, 'lo'], [V3, 'lo']),
      rs2: realServer([V1, 'lo'], [V2, 'lo'], [V3, 'lo']),
    },
    changes: [
      `balance dir1: service TCP ${V1}:80 persistence off -> 600s`,
      `balance dir1: service TCP ${V2}:80 persistence 300s -> 900s`,
      `balance dir1: service TCP ${V3}:80 persistence 300s -> off`,
      'balance dir1: update /etc/ipvsadm.rules',
    ],
    drains: [],
  },
  {
    name: 'a fwmark service replaces two port services on one VIP: marks and service come before the port services are quiesced',
    before: { dir1: director([web(rs(RS1, RS2)), tcp(V1, 8080, rs(RS1, RS2))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: director([marked(1, rs(RS1, RS2))], [{ address: V1, ports: [80, 8080], mark: 1 }]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    changes: [
      'balance dir1: add service FWM 1 (wrr, persistent 300s)',
      ...ports(0, RS1, RS2).map((server) => `balance dir1: add real server ${server} (dr, weight 1) to FWM 1`),
      'balance dir1: update /etc/ipvsadm.rules',
      'balance dir1: create /etc/lvsprov/fwmark.nft',
      'balance dir1: nftables table lvsprov_fwmark: (absent) -> 1 mark rule',
      ...quiesced(`TCP ${V1}:8080`, ports(8080, RS1, RS2)),
      ...quiesced(`TCP ${V1}:80`, ports(80, RS1, RS2)),
      deleted(`TCP ${V1}:8080`),
      deleted(`TCP ${V1}:80`),
      'withdraw dir1: update /etc/ipvsadm.rules',
    ],
    drains: [['dir1', [`-t ${V1}:8080 ${RS1}:8080`, `-t ${V1}:8080 ${RS2}:8080`, `-t ${V1}:80 ${RS1}:80`, `-t ${V1}:80 ${RS2}:80`]]],
  },
  {
    name: 'two port services replace a fwmark service on one VIP: the marks go when the port services are there, not after the drain',
    before: { dir1: director([marked(1, rs(RS1, RS2))], [{ address: V1, ports: [80, 8080], mark: 1 }]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: director([web(rs(RS1, RS2)), tcp(V1, 8080, rs(RS1, RS2))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    changes: [
      ...added(`TCP ${V1}:80`, ports(80, RS1, RS2)),
      ...added(`TCP ${V1}:8080`, ports(8080, RS1, RS2)),
      'balance dir1: update /etc/ipvsadm.rules',
      'balance dir1: delete nftables table lvsprov_fwmark',
      'balance dir1: remove /etc/lvsprov/fwmark.nft',
      ...quiesced('FWM 1', ports(0, RS1, RS2)),
      deleted('FWM 1', 'wrr, persistent 300s, 2 real servers'),
      'withdraw dir1: update /etc/ipvsadm.rules',
    ],
    drains: [['dir1', [`-f 1 ${RS1}:0 to ${V1}`, `-f 1 ${RS2}:0 to ${V1}`]]],
  },
  {
    name: 'port services replace one of two fwmark services: the edited marks wait for the port services',
    before: {
      dir1: director([marked(1, rs(RS1, RS2)), marked(2, rs(RS1, RS2))], [{ address: V1, ports: [80, 8080], mark: 1 }, { address: V2, ports: [80, 8080], mark: 2 }]),
      rs1: realServer([V1, 'lo'], [V2, 'lo']),
      rs2: realServer([V1, 'lo'], [V2, 'lo']),
    },
    after: {
      dir1: director([web(rs(RS1, RS2)), tcp(V1, 8080, rs(RS1, RS2)), marked(2, rs(RS1, RS2))], [{ address: V2, ports: [80, 8080], mark: 2 }]),
      rs1: realServer([V1, 'lo'], [V2, 'lo']),
      rs2: realServer([V1, 'lo'], [V2, 'lo']),
    },
    changes: [
      ...added(`TCP ${V1}:80`, ports(80, RS1, RS2)),
      ...added(`TCP ${V1}:8080`, ports(8080, RS1, RS2)),
      'balance dir1: update /etc/ipvsadm.rules',
      'balance dir1: update /etc/lvsprov/fwmark.nft',
      `balance dir1: nftables table lvsprov_fwmark: ip daddr ${V1} tcp dport { 80, 8080 } meta mark set 0x00000001; ip daddr ${V2} tcp dport { 80, 8080 } meta mark set 0x00000002 -> 1 mark rule`,
      ...quiesced('FWM 1', ports(0, RS1, RS2)),
      deleted('FWM 1', 'wrr, persistent 300s, 2 real servers'),
      'withdraw dir1: update /etc/ipvsadm.rules',
    ],
    drains: [['dir1', [`-f 1 ${RS1}:0 to ${V1}`, `-f 1 ${RS2}:0 to ${V1}`]]],
  },
  {
    // The old director lets the VIP go first thing in the wave in which the new one takes it: kept
    // until retire, its ARP answers would pull the router back to it after the new one's announce.
    name: 'a director replaced by another, the old one kept in the inventory with no role: the old one lets the VIP go first in balance, the new one adds and announces it once it did, then the old one drains and deletes',
    before: { dir1: director([web(rs(RS1, RS2))]), dir2: [], rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: [], dir2: director([web(rs(RS1, RS2))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    changes: [
      `balance dir1: address ${V1} on eth0: ${V1}/32 label eth0 -> (absent)`,
      ...quiesced(`TCP ${V1}:80`, ports(80, RS1, RS2)),
      ...added(`TCP ${V1}:80`, ports(80, RS1, RS2), 'dir2'),
      'balance dir2: create /etc/ipvsadm.rules',
      `balance dir2 once dir1 let ${V1} go: address ${V1} on eth0: (absent) -> ${V1}/32 label eth0`,
      `balance dir2 once dir1 let ${V1} go: announce ${V1} on eth0 (gratuitous ARP)`,
      deleted(`TCP ${V1}:80`),
      'withdraw dir1: remove /etc/ipvsadm.rules',
    ],
    drains: [['dir1', [`-t ${V1}:80 ${RS1}:80`, `-t ${V1}:80 ${RS2}:80`]]],
  },
  {
    name: 'a director of two VIPs replaced by another: the old one lets both go first in balance, the new one takes each once it did',
    before: { dir1: director([web(rs(RS1)), tcp(V2, 80, rs(RS1))]), dir2: [], rs1: realServer([V1, 'lo'], [V2, 'lo']) },
    after: { dir1: [], dir2: director([web(rs(RS1)), tcp(V2, 80, rs(RS1))]), rs1: realServer([V1, 'lo'], [V2, 'lo']) },
    changes: [
      `balance dir1: address ${V2} on eth0: ${V2}/32 label eth0 -> (absent)`,
      `balance dir1: address ${V1} on eth0: ${V1}/32 label eth0 -> (absent)`,
      ...quiesced(`TCP ${V2}:80`, ports(80, RS1)),
      ...quiesced(`TCP ${V1}:80`, ports(80, RS1)),
      ...added(`TCP ${V1}:80`, ports(80, RS1), 'dir2'),
      ...added(`TCP ${V2}:80`, ports(80, RS1), 'dir2'),
      'balance dir2: create /etc/ipvsadm.rules',
      `balance dir2 once dir1 let ${V1} go: address ${V1} on eth0: (absent) -> ${V1}/32 label eth0`,
      `balance dir2 once dir1 let ${V1} go: announce ${V1} on eth0 (gratuitous ARP)`,
      `balance dir2 once dir1 let ${V2} go: address ${V2} on eth0: (absent) -> ${V2}/32 label eth0`,
      `balance dir2 once dir1 let ${V2} go: announce ${V2} on eth0 (gratuitous ARP)`,
      deleted(`TCP ${V2}:80`, 'wrr, 1 real server'),
      deleted(`TCP ${V1}:80`, 'wrr, 1 real server'),
      'withdraw dir1: remove /etc/ipvsadm.rules',
    ],
    drains: [['dir1', [`-t ${V2}:80 ${RS1}:80`, `-t ${V1}:80 ${RS1}:80`]]],
  },
  {
    // The new director's gratuitous ARP brings the router at once: only once its marks steer the VIP's packets to its service.
    name: 'a fwmark director replaced by another: the old one lets the VIP go, and the new one announces it once it did, after its service and its marks',
    before: { dir1: director([marked(1, rs(RS1, RS2))], [{ address: V1, ports: [80, 8080], mark: 1 }]), dir2: [], rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: [], dir2: director([marked(1, rs(RS1, RS2))], [{ address: V1, ports: [80, 8080], mark: 1 }]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    changes: [
      `balance dir1: address ${V1} on eth0: ${V1}/32 label eth0 -> (absent)`,
      'balance dir1: delete nftables table lvsprov_fwmark',
      'balance dir1: remove /etc/lvsprov/fwmark.nft',
      ...quiesced('FWM 1', ports(0, RS1, RS2)),
      ...marksArrive(V1, ports(0, RS1, RS2)),
      deleted('FWM 1', 'wrr, persistent 300s, 2 real servers'),
      'withdraw dir1: remove /etc/ipvsadm.rules',
    ],
    // Each server's drain asks after the VIP its mark covered: gone from dir1 in balance, the drain ends at once.
    drains: [['dir1', [`-f 1 ${RS1}:0 to ${V1}`, `-f 1 ${RS2}:0 to ${V1}`]]],
  },
  {
    name: 'a fwmark service split between two directors, one VIP of its mark each: the leaving server drains on the VIPs the old mark covered',
    before: { dir1: director([marked(1, rs(RS1, RS2))], [{ address: V1, ports: [80], mark: 1 }, { address: V2, ports: [80], mark: 1 }]), dir2: [], rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo'], [V2, 'lo']) },
    after: { dir1: director([marked(1, rs(RS1))], [{ address: V1, ports: [80], mark: 1 }]), dir2: director([marked(1, rs(RS2))], [{ address: V2, ports: [80], mark: 1 }]), rs1: realServer([V1, 'lo']), rs2: realServer([V2, 'lo']) },
    changes: [
      `balance dir1: address ${V2} on eth0: ${V2}/32 label eth0 -> (absent)`,
      // rs1 stays in FWM 1: rs2 is quiesced before the marks change (see the case of a port service's VIP taken into the marks).
      ...quiesced('FWM 1', ports(0, RS2)),
      'balance dir1: update /etc/lvsprov/fwmark.nft',
      `balance dir1: nftables table lvsprov_fwmark: ip daddr ${V1} tcp dport 80 meta mark set 0x00000001; ip daddr ${V2} tcp dport 80 meta mark set 0x00000001 -> 1 mark rule`,
      ...marksArrive(V2, ports(0, RS2)),
      `withdraw dir1: remove real server ${RS2}:0 (dr, weight 1) from FWM 1`,
      'withdraw dir1: update /etc/ipvsadm.rules',
      `retire rs1: address ${V2} on lo: ${V2}/32 label lo -> (absent)`,
      `retire rs2: address ${V1} on lo: ${V1}/32 label lo -> (absent)`,
    ],
    // V2 leaves dir1 first in balance: its connections there stop counting, those to V1 still do.
    drains: [['dir1', [`-f 1 ${RS2}:0 to ${V1} ${V2}`]]],
  },
  {
    // Found by the random walk (cross-host-random.test.ts) when it also asked, after each balance
    // change, whether every server a new connection may meet holds its VIP: quiesced after the
    // marks, rs2 took new connections to V2 in between, and its host does not hold V2 (only the
    // service's servers after the run do).
    name: "a port service's VIP taken into the marks of a fwmark service that one server leaves: the leaving server is quiesced before the marks send it the new VIP, the port service's after them",
    before: { dir1: director([marked(1, rs(RS1, RS2)), tcp(V2, 80, rs(RS1))], [{ address: V1, ports: [80], mark: 1 }]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: director([marked(1, rs(RS1))], [{ address: V1, ports: [80], mark: 1 }, { address: V2, ports: [80], mark: 1 }]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: [] },
    changes: [
      // rs1 stays in FWM 1 and holds both VIPs: it takes V1's new connections until the marks change, and V2's from then on.
      ...quiesced('FWM 1', ports(0, RS2)),
      'balance dir1: update /etc/lvsprov/fwmark.nft',
      `balance dir1: nftables table lvsprov_fwmark: ip daddr ${V1} tcp dport 80 meta mark set 0x00000001 -> 2 mark rules`,
      ...quiesced(`TCP ${V2}:80`, ports(80, RS1)),
      `withdraw dir1: remove real server ${RS2}:0 (dr, weight 1) from FWM 1`,
      'withdraw dir1: update /etc/ipvsadm.rules',
      deleted(`TCP ${V2}:80`, 'wrr, 1 real server'),
      'withdraw dir1: update /etc/ipvsadm.rules',
      ...vipOff(V1, 'lo', ['rs2']),
    ],
    drains: [['dir1', [`-f 1 ${RS2}:0 to ${V1} ${V2}`, `-t ${V2}:80 ${RS1}:80`]]],
  },
  {
    name: "one VIP leaves a fwmark service's marks, the service and its servers stay: its connections drain on the director before the VIP leaves it and the real servers",
    before: { dir1: director([marked(1, rs(RS1, RS2))], [{ address: V1, ports: [80], mark: 1 }, { address: V2, ports: [80], mark: 1 }]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo'], [V2, 'lo']) },
    after: { dir1: director([marked(1, rs(RS1, RS2))], [{ address: V1, ports: [80], mark: 1 }]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    changes: [
      'balance dir1: update /etc/lvsprov/fwmark.nft',
      `balance dir1: nftables table lvsprov_fwmark: ip daddr ${V1} tcp dport 80 meta mark set 0x00000001; ip daddr ${V2} tcp dport 80 meta mark set 0x00000001 -> 1 mark rule`,
      ...vipOff(V2, 'eth0', ['dir1']),
      ...vipOff(V2, 'lo', ['rs1', 'rs2']),
    ],
    // No new connection is marked for V2 from balance on; those made before live on until V2 leaves.
    drains: [['dir1', [`-f 1 ${RS1}:0 to ${V2}`, `-f 1 ${RS2}:0 to ${V2}`]]],
  },
  {
    name: "a fwmark service's VIP renumbered: the new VIP is marked and on the real servers first, the old one's connections drain before it leaves",
    before: { dir1: director([marked(1, rs(RS1, RS2))], [{ address: V1, ports: [80], mark: 1 }]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) },
    after: { dir1: director([marked(1, rs(RS1, RS2))], [{ address: V3, ports: [80], mark: 1 }]), rs1: realServer([V3, 'lo']), rs2: realServer([V3, 'lo']) },
    changes: [
      `prepare rs1: address ${V3} on lo: (absent) -> ${V3}/32 label lo`,
      `prepare rs2: address ${V3} on lo: (absent) -> ${V3}/32 label lo`,
      `balance dir1: address ${V3} on eth0: (absent) -> ${V3}/32 label eth0`,
      'balance dir1: update /etc/lvsprov/fwmark.nft',
      `balance dir1: nftables table lvsprov_fwmark: ip daddr ${V1} tcp dport 80 meta mark set 0x00000001 -> 1 mark rule`,
      `balance dir1: announce ${V3} on eth0 (gratuitous ARP)`,
      ...vipOff(V1, 'eth0', ['dir1']),
      ...vipOff(V1, 'lo', ['rs1', 'rs2']),
    ],
    drains: [['dir1', [`-f 1 ${RS1}:0 to ${V1}`, `-f 1 ${RS2}:0 to ${V1}`]]],
  },
  {
    name: "a fwmark server switched from DR to TUN while its mark leaves a VIP its host then gives up: the switch's drain waits for all its old connections, that VIP's too",
    before: { dir1: director([marked(1, rs(RS1, RS2))], [{ address: V1, ports: [80], mark: 1 }, { address: V2, ports: [80], mark: 1 }]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo'], [V2, 'lo']) },
    after: { dir1: director([marked(1, [{ address: RS1 }, { address: RS2, forwarding: 'tun' }])], [{ address: V1, ports: [80], mark: 1 }]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'tunl0']) },
    changes: [
      `prepare rs2: address ${V1} on tunl0: (absent) -> ${V1}/32 label tunl0 (tunl0 does not exist yet)`,
      `balance dir1: real server ${RS2}:0 forwarding dr -> tun in FWM 1`,
      'balance dir1: update /etc/ipvsadm.rules',
      'balance dir1: update /etc/lvsprov/fwmark.nft',
      `balance dir1: nftables table lvsprov_fwmark: ip daddr ${V1} tcp dport 80 meta mark set 0x00000001; ip daddr ${V2} tcp dport 80 meta mark set 0x00000001 -> 1 mark rule`,
      `withdraw dir1: ${RS2}:0 in FWM 1: its next-hop pin goes (the tun switch drained)`,
      ...vipOff(V2, 'eth0', ['dir1']),
      ...vipOff(V2, 'lo', ['rs1', 'rs2']),
      `retire rs2: address ${V1} on lo: ${V1}/32 label lo -> (absent)`,
    ],
    // rs2's entry names no VIP: every connection the switch listed counts, those to V2 among them.
    drains: [['dir1', [`-f 1 ${RS2}:0`, `-f 1 ${RS1}:0 to ${V2}`]]],
  },
  {
    name: "one VIP leaves a fwmark service's marks but stays on the director and the real servers for a port service: nothing to drain",
    before: { dir1: director([marked(1, rs(RS1, RS2)), tcp(V2, 443, rs(RS1, RS2))], [{ address: V1, ports: [80], mark: 1 }, { address: V2, ports: [80], mark: 1 }]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo'], [V2, 'lo']) },
    after: { dir1: director([marked(1, rs(RS1, RS2)), tcp(V2, 443, rs(RS1, RS2))], [{ address: V1, ports: [80], mark: 1 }]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo'], [V2, 'lo']) },
    changes: [
      'balance dir1: update /etc/lvsprov/fwmark.nft',
      `balance dir1: nftables table lvsprov_fwmark: ip daddr ${V1} tcp dport 80 meta mark set 0x00000001; ip daddr ${V2} tcp dport 80 meta mark set 0x00000001 -> 1 mark rule`,
    ],
    drains: [],
  },
  {
    name: "one VIP leaves the marks of a fwmark service and one of its servers leaves it: the leaving one drains whole, the other on that VIP",
    before: { dir1: director([marked(1, rs(RS1, RS2, RS3))], [{ address: V1, ports: [80], mark: 1 }, { address: V2, ports: [80], mark: 1 }]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo'], [V2, 'lo']), rs3: realServer([V1, 'lo'], [V2, 'lo']) },
    after: { dir1: director([marked(1, rs(RS1, RS2))], [{ address: V1, ports: [80], mark: 1 }]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']), rs3: [] },
    changes: [
      ...quiesced('FWM 1', ports(0, RS3)),
      'balance dir1: update /etc/lvsprov/fwmark.nft',
      `balance dir1: nftables table lvsprov_fwmark: ip daddr ${V1} tcp dport 80 meta mark set 0x00000001; ip daddr ${V2} tcp dport 80 meta mark set 0x00000001 -> 1 mark rule`,
      `withdraw dir1: remove real server ${RS3}:0 (dr, weight 1) from FWM 1`,
      'withdraw dir1: update /etc/ipvsadm.rules',
      ...vipOff(V2, 'eth0', ['dir1']),
      ...vipOff(V2, 'lo', ['rs1', 'rs2']),
      `retire rs3: address ${V2} on lo: ${V2}/32 label lo -> (absent)`,
      `retire rs3: address ${V1} on lo: ${V1}/32 label lo -> (absent)`,
    ],
    drains: [['dir1', [`-f 1 ${RS3}:0 to ${V1} ${V2}`, `-f 1 ${RS1}:0 to ${V2}`, `-f 1 ${RS2}:0 to ${V2}`]]],
  },
  {
    name: 'a real server removed from every service, its host kept with no role: deleted on the director after the drain, then its VIP pruned',
    before: { dir1: director([web(rs(RS1, RS2, RS3))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']), rs3: realServer([V1, 'lo']) },
    after: { dir1: director([web(rs(RS1, RS2))]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']), rs3: [] },
    changes: [
      ...rs3LeavesWeb,
    ],
    drains: [['dir1', [`-t ${V1}:80 ${RS3}:80`]]],
  },
  {
    // The director stays one (its ipvs task now lists no service): the pruned service took the save
    // file with it, and the task's own plan must not write an empty one back in the next apply.
    name: "a VIP deleted entirely from one of two directors: it drains and deletes its service and lets the VIP go, the real servers keep the other director's VIP, and the emptied director stays converged",
    before: { dir1: director([web(rs(RS1, RS2))]), dir2: director([tcp(V2, 80, rs(RS1, RS3))]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo']), rs3: realServer([V2, 'lo']) },
    after: { dir1: director([web(rs(RS1, RS2))]), dir2: director([]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']), rs3: [] },
    changes: [
      ...quiesced(`TCP ${V2}:80`, ports(80, RS1, RS3), 'dir2'),
      deleted(`TCP ${V2}:80`, 'wrr, 2 real servers', 'dir2'),
      'withdraw dir2: remove /etc/ipvsadm.rules',
      ...vipOff(V2, 'eth0', ['dir2']),
      ...vipOff(V2, 'lo', ['rs1', 'rs3']),
    ],
    drains: [['dir2', [`-t ${V2}:80 ${RS1}:80`, `-t ${V2}:80 ${RS3}:80`]]],
  },
  {
    name: 'two services share a real server and only one changes: the other and the real server are untouched',
    before: { dir1: director([web(rs(RS1, RS2)), tcp(V2, 80, rs(RS1, RS2))]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo'], [V2, 'lo']) },
    after: { dir1: director([web([{ address: RS1, weight: 5 }, { address: RS2 }]), tcp(V2, 80, rs(RS1, RS2))]), rs1: realServer([V1, 'lo'], [V2, 'lo']), rs2: realServer([V1, 'lo'], [V2, 'lo']) },
    changes: [
      `balance dir1: real server ${RS1}:80 weight 1 -> 5 in TCP ${V1}:80`,
      'balance dir1: update /etc/ipvsadm.rules',
    ],
    drains: [],
  },
];

describe('the cross-host plan of a live cluster between two inventories', () => {
  for (const fixture of cases) {
    it(fixture.name, () => {
      const cluster = new Map<string, SimHost>();
      const first = planCluster(cluster, fixture.before);
      applyCluster(cluster, fixture.before, first.plans);
      expect(lines(planCluster(cluster, fixture.before).waves)).toEqual([]);

      const realServers = new Map([[RS1, 'rs1'], [RS2, 'rs2'], [RS3, 'rs3']]);
      const { plans, waves } = planCluster(cluster, fixture.after, { realServers, also: Object.fromEntries((fixture.restarts ?? []).map((host) => [host, [restart(host)]])) });
      expect(lines(waves)).toEqual(fixture.changes);
      expect(waves.drains.map((drain) => [drain.host, drain.servers.map(drainKey)])).toEqual(fixture.drains);
      checkLvsOrder(fixture.after, plans, waves);
      expect(trafficProblems(cluster, fixture.after, plans, waves, { vips: [V1, V2, V3], ports: [80, 443, 8080], directors: ['dir1', 'dir2'], realServers })).toEqual([]);

      applyCluster(cluster, fixture.after, plans);
      expect(lines(planCluster(cluster, fixture.after).waves)).toEqual([]);
    });
  }
});

