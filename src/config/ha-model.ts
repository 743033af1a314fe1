import type { ConfigProblem } from '../errors.js';
import { formatNetwork, intToIpv4, isIpv4, isLoopback, isUsableHost, networkContains, networkOf, parseNetwork } from '../net/ipv4.js';
import { forwardedTo } from './forwarded-to.js';
import type { HaSettings } from './ha-schema.js';
import type { LoadedInventory } from './inventory.js';
import type { ResolvedService } from './lvs-model.js';
import { own } from './own.js';
import { suggestion } from './suggest.js';
import type { PathSegment } from './yaml-source.js';

// lvs.ha resolved: the VIPs grouped into VRRP instances (the VIPs that share their directors and
// their virtual_router_id move together), each director's priority and initial state, and the
// NAT gateway that floats with them. The checks are the ones VRRP needs to pick one holder: two
// directors or more, distinct priorities, one id per instance, nopreempt only on a backup.

type Inventory = Pick<LoadedInventory, 'source' | 'data' | 'services'>;
type Report = (path: PathSegment[], message: string) => void;

export interface HaDirector {
  readonly host: string;
  /** The address VRRP adverts leave from and go to (unicast_src_ip / unicast_peer). */
  readonly address: string;
  readonly priority: number;
  readonly state: 'MASTER' | 'BACKUP';
  readonly nopreempt: boolean;
}

export interface VrrpVip {
  readonly address: string;
  /** The VIP's own interface, when lvs.vips names one. */
  readonly interface?: string;
}

export interface VrrpGroup {
  readonly virtualRouterId: number;
  readonly vips: readonly VrrpVip[];
  /** In the order the services list them; the first is MASTER unless lvs.ha.directors says otherwise. */
  readonly directors: readonly HaDirector[];
  /** Whether a NAT service uses these VIPs: then the gateway moves with them. */
  readonly nat: boolean;
}

export interface HaModel {
  readonly settings: HaSettings;
  readonly groups: readonly VrrpGroup[];
}

/** Default priorities in director order: 150, 140, 130 ... (distinct, all below 255, the address owner's). */
const defaultPriority = (index: number): number => Math.max(1, 150 - 10 * index);

/** For a message: which of `hosts` have their priority by default, and what the default is. */
function defaultsOf(settings: HaSettings, hosts: readonly string[]): string {
  const defaulted = hosts.filter((host) => own(settings.directors, host)?.priority === undefined);
  return defaulted.length === 0 ? '' : ` (by default for ${defaulted.join(' and ')}: 150 for a VRRP group's first director, 10 less for each next, at least 1)`;
}

/** Where a director's priority is set, or where it would go: its key, its entry, or lvs.ha (a path that exists, for the message's position). */
function priorityPath(settings: HaSettings, host: string): PathSegment[] {
  const entry = own(settings.directors, host);
  if (entry?.priority !== undefined) return ['lvs', 'ha', 'directors', host, 'priority'];
  return entry !== undefined ? ['lvs', 'ha', 'directors', host] : ['lvs', 'ha'];
}

/** Addresses one VRRP advert can list (its count is one byte): keepalived 2.2's limit for an instance's VIPs. */
export const MAX_VIPS_PER_INSTANCE = 255;

/** The HA model of an inventory, or undefined without lvs.ha. Problems go to `report` when given. */
export function resolveHa(inventory: Inventory, report: Report = () => undefined): HaModel | undefined {
  const settings = inventory.data.lvs.ha;
  if (!settings) return undefined;
  const byVip = vipDirectors(inventory, report);
  const groups = new Map<number, { vips: VrrpVip[]; directors: string[]; nat: boolean; path: PathSegment[] }>();
  for (const [address, entry] of byVip) {
    const named = Object.entries(inventory.data.lvs.vips).find(([, vip]) => vip.address === address);
    const vrid = named?.[1].virtual_router_id ?? settings.virtual_router_id;
    const path = named ? ['lvs', 'vips', named[0]] : entry.path;
    const vip = { address, ...(named?.[1].interface !== undefined ? { interface: named[1].interface } : {}) };
    const group = groups.get(vrid);
    if (!group) {
      groups.set(vrid, { vips: [vip], directors: entry.directors, nat: entry.nat, path });
      continue;
    }
    if (group.directors.join(',') !== entry.directors.join(',')) {
      report(
        path,
        `VIP ${address} has directors ${entry.directors.join(', ')} but VRRP id ${vrid} already holds VIPs of directors ${group.directors.join(', ')}: ` +
          'one VRRP instance moves its VIPs together between the same directors; give this VIP its own `virtual_router_id` in lvs.vips',
      );
      continue;
    }
    group.vips.push(vip);
    group.nat ||= entry.nat;
    // A VRRP advert counts its addresses in one byte: keepalived refuses an instance of more.
    if (group.vips.length === MAX_VIPS_PER_INSTANCE + 1) {
      report(
        path,
        `VIP ${address} is the ${MAX_VIPS_PER_INSTANCE + 1}th VIP of VRRP id ${vrid}: a VRRP advert lists at most ${MAX_VIPS_PER_INSTANCE} addresses, and keepalived refuses an instance of more; give some VIPs their own \`virtual_router_id\` in lvs.vips`,
      );
    }
  }
  checkDirectorSettings(inventory, settings, [...groups.values()].map((group) => group.directors), report);
  checkGateway(inventory, settings, report);
  checkNatGroups(settings, [...groups.values()], report);
  if (settings.gateway && groups.has(settings.gateway.virtual_router_id))
    report(['lvs', 'ha', 'gateway', 'virtual_router_id'], `VRRP id ${settings.gateway.virtual_router_id} is already the id of the VIPs; the gateway's instance needs an id of its own on the LAN`);
  const resolved = [...groups.entries()].map(([virtualRouterId, group]) => ({
    virtualRouterId,
    vips: group.vips,
    nat: group.nat,
    directors: haDirectors(inventory, settings, group.directors),
  }));
  for (const group of resolved) checkStartingMaster(settings, group, report);
  return { settings, groups: resolved };
}

/**
 * The director that starts as MASTER must be the one VRRP keeps: two named masters both take the
 * VIPs at start (two holders answering ARP until one hears the other), and a director of higher
 * priority that may preempt takes them from a lower master at once, a move at every start.
 */
function checkStartingMaster(settings: HaSettings, group: VrrpGroup, report: Report): void {
  const entryPath = (host: string, key: string): PathSegment[] => (own(settings.directors, host) !== undefined ? ['lvs', 'ha', 'directors', host, key] : ['lvs', 'ha', 'directors']);
  const masters = group.directors.filter((director) => director.state === 'MASTER');
  const [first, second] = masters;
  if (first && second) {
    report(
      entryPath(second.host, 'state'),
      `directors ${first.host} and ${second.host} are both named \`state: master\` of VRRP id ${group.virtualRouterId}: both would take its VIPs at start; name one master`,
    );
    return;
  }
  if (!first) return;
  for (const director of group.directors) {
    if (director.priority <= first.priority || director.nopreempt) continue;
    report(
      own(settings.directors, director.host) !== undefined ? priorityPath(settings, director.host) : entryPath(first.host, 'state'),
      `${first.host} starts as MASTER of VRRP id ${group.virtualRouterId} at priority ${first.priority}, but ${director.host} has priority ${director.priority}${defaultsOf(settings, [first.host, director.host])} and preempts: ` +
        `it would take the VIPs from ${first.host} at every start. Give ${first.host} the highest priority, or ${director.host} \`state: backup\` with \`nopreempt: true\``,
    );
  }
}

/**
 * A group's directors with their priorities and states. Unless lvs.ha.directors names a master,
 * the default state is MASTER for the director with the highest priority among those whose state
 * is not set (the first one, unless priorities are set): the one VRRP makes master, and the one
 * the apply starts first. A named master makes every other director a backup.
 */
function haDirectors(inventory: Inventory, settings: HaSettings, hosts: readonly string[]): HaDirector[] {
  const priorities = hosts.map((host, index) => own(settings.directors, host)?.priority ?? defaultPriority(index));
  const named = hosts.map((host) => own(settings.directors, host)?.state);
  const candidates = named.includes('master') ? [] : priorities.filter((_, index) => named[index] === undefined);
  const highest = candidates.length > 0 ? priorities.findIndex((priority, index) => named[index] === undefined && priority === Math.max(...candidates)) : -1;
  return hosts.map((host, index) => {
    const entry = own(settings.directors, host);
    return {
      host,
      address: own(inventory.data.hosts, host)?.address ?? '',
      priority: priorities[index] ?? defaultPriority(index),
      state: (entry?.state ?? (index === highest ? 'master' : 'backup')) === 'master' ? 'MASTER' : 'BACKUP',
      nopreempt: entry?.nopreempt ?? false,
    };
  });
}

/** Each VIP address with its directors (in service order) and whether a NAT service uses it; VIPs of one director are refused. */
function vipDirectors(inventory: Inventory, report: Report): Map<string, { directors: string[]; nat: boolean; path: PathSegment[] }> {
  const byVip = new Map<string, { directors: string[]; nat: boolean; path: PathSegment[] }>();
  inventory.services.forEach((service, index) => {
    if (service.address === undefined) return;
    const raw = inventory.data.lvs.services[index];
    const path: PathSegment[] = ['lvs', 'services', index, raw?.directors !== undefined ? 'directors' : 'vip'];
    const known = byVip.get(service.address);
    const entry = known ?? { directors: [], nat: false, path };
    // Every service of a VIP goes with it: whichever director VRRP gives the VIP must serve them all.
    const first = known && inventory.services.find((other) => other.address === service.address);
    if (first && !sameMembers(first.directors, service.directors))
      report(
        path,
        `service ${service.name} of VIP ${service.address} has directors ${service.directors.join(', ')} but service ${first.name} of the same VIP has ${first.directors.join(', ')}: ` +
          'under lvs.ha one VRRP instance gives the VIP to one of its directors, which must then hold every service of it (a director without this one would reset its connections); give every service of the VIP the same directors',
      );
    for (const director of service.directors) if (!entry.directors.includes(director)) entry.directors.push(director);
    entry.nat ||= service.forwarding === 'nat';
    byVip.set(service.address, entry);
    if (service.forwarding === 'nat' && !inventory.data.lvs.ha?.gateway)
      report(['lvs', 'services', index, 'forwarding'], 'a NAT service under lvs.ha needs lvs.ha.gateway: the real servers route through an inside address that must move with the VIP');
  });
  for (const [address, entry] of byVip) {
    if (entry.directors.length < 2)
      report(entry.path, `VIP ${address} has one director (${entry.directors.join(', ')}); lvs.ha needs at least two directors for each VIP, so that one can take over`);
  }
  return byVip;
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((member) => b.includes(member));
}

/**
 * The floating NAT gateway: every NAT real server must reach it on-link (its address inside the
 * gateway's network), and every NAT director an inside address on that network (its `dip`, or
 * its address), other than the gateway itself, for the gateway instance's adverts to leave from.
 */
function checkGateway(inventory: Inventory, settings: HaSettings, report: Report): void {
  const gateway = settings.gateway;
  if (!gateway) return;
  const network = networkOf(gateway.address, gateway.prefix);
  const cidr = formatNetwork(network);
  const at = (key: 'address' | 'prefix'): PathSegment[] => ['lvs', 'ha', 'gateway', key];
  if (!isUsableHost(network, gateway.address))
    report(at('address'), `gateway ${gateway.address} is the ${intToIpv4(network.base) === gateway.address ? 'network' : 'broadcast'} address of ${cidr}, which no machine can hold; a real server's route via it is refused`);
  const stated = (inventory.data.networks ?? []).map(parseNetwork).find((home) => networkContains(home, gateway.address));
  if (stated && stated.prefixLength !== gateway.prefix)
    report(at('prefix'), `gateway ${gateway.address}/${gateway.prefix} is on ${formatNetwork(stated)} by \`networks\`: the master adds it with its prefix, which is its network's route on the inside interface; give it prefix ${stated.prefixLength}`);
  const vipInside = inventory.services.find((service) => service.address !== undefined && networkContains(network, service.address));
  if (vipInside && !stated)
    report(at('prefix'), `the gateway's network ${cidr} holds VIP ${vipInside.address ?? ''}: the master routes it out of the inside interface (${gateway.interface}), where the clients are not; give the gateway the inside network's prefix`);
  inventory.services.forEach((service, index) => {
    for (const target of forwardedTo(service, index)) {
      if (target.address === gateway.address)
        report(at('address'), `gateway ${gateway.address} is also a ${target.what} of service ${service.name}: the master director adds the gateway, so it would take that machine's address; the gateway is an address of its own`);
    }
  });
  const nat = inventory.services.map((service, index) => ({ service, index })).filter(({ service }) => service.forwarding === 'nat');
  const offLink = new Set<string>();
  for (const { service, index } of nat) {
    for (const server of forwardedTo(service, index)) {
      if (networkContains(network, server.address) || offLink.has(server.address)) continue;
      offLink.add(server.address);
      report(
        server.path,
        `NAT ${server.what} ${server.address} is not on the gateway's network ${cidr} (lvs.ha.gateway address/prefix): it routes its replies through ${gateway.address}, which must be on-link`,
      );
    }
  }
  for (const director of new Set(nat.flatMap(({ service }) => service.directors))) {
    const entry = own(inventory.data.hosts, director);
    const dip = entry?.vars.dip;
    // Without a dip the director's own address is its inside address (one network for everything).
    if (dip === undefined && entry !== undefined && !networkContains(network, entry.address)) {
      report(['hosts', director], `NAT director ${director} needs a \`dip\` var on ${cidr}: the gateway's VRRP adverts go between the directors' inside addresses`);
    } else if (dip !== undefined && (typeof dip !== 'string' || !isIpv4(dip) || !networkContains(network, dip) || dip === gateway.address)) {
      report(['hosts', director, 'vars', 'dip'], `dip ${String(dip)} of NAT director ${director} must be an address of its own on the gateway's network ${cidr}, other than the gateway ${gateway.address}`);
    }
  }
}

/**
 * The gateway is one VRRP instance, synced with every NAT instance of a director: NAT VIPs under
 * different directors (or another order, so another master) would leave a director whose NAT
 * instances disagree, and directors that never hear each other's gateway adverts (two masters).
 */
function checkNatGroups(settings: HaSettings, groups: ReadonlyArray<{ directors: string[]; nat: boolean; path: PathSegment[]; vips: VrrpVip[] }>, report: Report): void {
  if (!settings.gateway) return;
  const nat = groups.filter((group) => group.nat);
  const first = nat[0];
  for (const group of nat.slice(1)) {
    if (first && group.directors.join(',') !== first.directors.join(','))
      report(
        group.path,
        `NAT VIP ${group.vips[0]?.address ?? ''} has directors ${group.directors.join(', ')} and NAT VIP ${first.vips[0]?.address ?? ''} ${first.directors.join(', ')}: ` +
          'both route their real servers through lvs.ha.gateway, one VRRP instance that moves with them, so every NAT VIP needs the same directors in the same order',
      );
  }
}

function checkDirectorSettings(inventory: Inventory, settings: HaSettings, groups: ReadonlyArray<readonly string[]>, report: Report): void {
  const directors = [...new Set(groups.flat())];
  const vrrp = "is where its VRRP adverts go (keepalived's unicast_src_ip and unicast_peer)";
  for (const host of directors) {
    const address = own(inventory.data.hosts, host)?.address;
    if (address !== undefined && !isIpv4(address)) report(['hosts', host, 'address'], `director ${host}'s address ${address} ${vrrp}: under lvs.ha it must be an IPv4 address`);
    else if (address !== undefined && isLoopback(address))
      report(['hosts', host, 'address'], `director ${host}'s address ${address} ${vrrp}: a loopback address never leaves the director, so its peers would never hear it and each would be MASTER; give the address its peers reach it at`);
  }
  for (const members of groups) {
    const byAddress = new Map<string, string>();
    for (const host of members) {
      const address = own(inventory.data.hosts, host)?.address;
      const other = address === undefined ? undefined : byAddress.get(address);
      if (address === undefined || isLoopback(address)) continue;
      if (other !== undefined)
        report(['hosts', host, 'address'], `directors ${other} and ${host} both have address ${address}, where each one's VRRP adverts go (keepalived's unicast_src_ip and unicast_peer): each would send its adverts to itself and take the VIPs; give each director the address its peers reach it at`);
      else byAddress.set(address, host);
    }
  }
  for (const [host, entry] of Object.entries(settings.directors)) {
    const at = ['lvs', 'ha', 'directors', host];
    if (!Object.hasOwn(inventory.data.hosts, host)) report(at, `unknown host ${host}${suggestion(host, Object.keys(inventory.data.hosts))}`);
    else if (!directors.includes(host)) report(at, `host ${host} directs no VIP (directors: ${directors.join(', ') || 'none'})`);
    if (entry.nopreempt === true && entry.state !== 'backup')
      report([...at, 'nopreempt'], 'nopreempt needs `state: backup`: keepalived ignores it on an instance that starts as MASTER');
  }
  for (const members of groups) {
    const seen = new Map<number, string>();
    members.forEach((host, index) => {
      const explicit = own(settings.directors, host)?.priority;
      const priority = explicit ?? defaultPriority(index);
      const other = seen.get(priority);
      if (other !== undefined) {
        const blamed = explicit !== undefined || own(settings.directors, other)?.priority === undefined ? host : other;
        report(priorityPath(settings, blamed), `directors ${other} and ${host} both have VRRP priority ${priority}${defaultsOf(settings, [other, host])}; priorities must differ so that one director is clearly the master: set \`priority\` in lvs.ha.directors`);
      }
      seen.set(priority, host);
    });
  }
}

const usesKeepalived = (service: ResolvedService): boolean =>
  service.healthCheck !== undefined || service.sorryServer !== undefined || service.quorum !== undefined || service.inhibitOnFailure === true;

/** Whether keepalived holds this director's IPVS table (and, with lvs.ha, its VIPs): lvs.ha, or a service of it with a keepalived key. */
export function keepalivedHolds(inventory: Pick<Inventory, 'data' | 'services'>, host: string): boolean {
  const directed = inventory.services.filter((service) => service.directors.includes(host));
  return directed.length > 0 && (inventory.data.lvs.ha !== undefined || directed.some(usesKeepalived));
}

/** Per-service keepalived checks that need no HA: checkers on TCP only, a reachable quorum, a sorry server apart from the real servers. */
export function keepalivedServiceProblems(inventory: Inventory, report: Report): void {
  inventory.services.forEach((service: ResolvedService, index) => {
    const at = (...rest: PathSegment[]): PathSegment[] => ['lvs', 'services', index, ...rest];
    const check = service.healthCheck;
    if (check && service.protocol === 'udp')
      report(at('health_check'), `health checks connect over TCP (keepalived's TCP_CHECK and HTTP_GET) and service ${service.name} is UDP: leave health_check out`);
    if (check && service.protocol !== 'udp' && check.port === undefined && service.realServers.some((server) => server.port === 0))
      report(at('health_check'), `service ${service.name} forwards every port (port 0 or fwmark): the check needs \`port\``);
    const total = service.realServers.reduce((sum, server) => sum + server.weight, 0);
    if (service.quorum !== undefined && service.quorum > total)
      report(
        at('quorum'),
        `quorum ${service.quorum} is more than the total weight ${total} of ${service.name}'s real servers: keepalived would never reach it` +
          (service.sorryServer ? ', and below it sends every request to the sorry server' : ''),
      );
    // keepalived's quorum is at least 1 (1 unless set) and keepalived -t refuses a quorum above
    // the total weight: a service of weights 0 alone cannot be written for a keepalived director.
    const held = service.directors.find((director) => keepalivedHolds(inventory, director));
    if (total === 0 && service.quorum === undefined && held !== undefined)
      report(
        at('real_servers'),
        `every real server of ${service.name} has weight 0, and keepalived holds ${held}'s IPVS table: keepalived -t refuses a virtual server whose weights sum to 0 ` +
          '(its quorum is at least 1). Give one real server a weight, or remove the service (apply drains its real servers before it goes)',
      );
    const sorry = service.sorryServer;
    if (sorry && service.realServers.some((server) => server.address === sorry.address))
      report(at('sorry_server', 'address'), `sorry server ${sorry.address} is also a real server of ${service.name}; it must be another host, used only when every real server is down`);
  });
}

/** lvs.ha's problems (when set) and the keepalived service checks, which hold with or without it. */
export function haProblems(inventory: Inventory): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const report: Report = (path, message) => void problems.push(inventory.source.problem(path, message));
  resolveHa(inventory, report);
  keepalivedServiceProblems(inventory, report);
  return problems;
}
