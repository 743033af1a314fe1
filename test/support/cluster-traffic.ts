import type { PlannedChange } from '../../src/engine/events.js';
import { changesIn } from '../../src/engine/host-plan.js';
import { serverKey, type Drain, type WavePlan } from '../../src/engine/wave-plan.js';
import type { AddressFacts } from '../../src/resources/address.js';
import type { IpvsFacts } from '../../src/resources/ipvs/probe.js';
import { BOUND_ENTRIES } from '../../src/resources/ipvs/bound-connections.js';
import { serverRef, serviceName, type Table, type VirtualService } from '../../src/resources/ipvs/model.js';
import type { NftTableFacts } from '../../src/resources/nft-table.js';
import { CHANGE_PHASES, type ChangePhase } from '../../src/resources/types.js';
import { applyChange, copyCluster, type Inventory, type SimHost } from './cluster-sim.js';

// What a plan does to a live cluster's traffic, judged from the simulated hosts' facts as each
// wave leaves them, not from what the planners say of their changes: an operator's two rules.
// A new connection to a VIP and port served before the run and after it meets, at every wave's
// end, one director holding the VIP, a service there with a server at a weight above 0, and every
// such server holding the VIP where its forwarding method needs it (lo for DR, tunl0 for TUN);
// and after each change of its director's balance, at least the director and such a server. A
// connection open at any wave's end (made before the run to any server of the service it met, or
// during it to one at a weight above 0) stays open until the drain waited for it: its director
// keeps the VIP, the service and the server, and the server keeps the VIP where the method it was
// made by needs it.
//
// A flow is a protocol, a VIP and a port. A UDP "connection" is what IPVS keeps of it: a
// connection entry, made by the first datagram and bound to its server and forwarding method as a
// TCP one is, so it is cut the same ways but one. A UDP entry whose server the director deletes
// is not cut: with expire_nodest_conn=1 (the director role sets it) the next datagram expires it
// and is scheduled afresh, a new connection the rules above judge. A drain is taken to wait for a
// leaving UDP server as for a TCP one, and for a switched one's old method only where the
// connections a switch lists for its drain take in that protocol's (BOUND_ENTRIES).
//
// Out of the model: a port service of a VIP that leaves the port to the VIP's port-0 service: IPVS
// looks the port service up before the port-0 one (serviceFor), so only its deletion (withdraw)
// hands the port over, and it is quiesced for its drain before that: the port's new connections
// are refused meanwhile, the price of the drain whatever the order. A VIP another director takes over in the run (its connections end at the
// move by design, vip-handover.ts; its new connections go nowhere for a round trip); a scheduler
// swap's hold; connections older than the marks or table the run starts from. And within a
// balance, whether each server a connection may meet holds its VIP: where a fwmark service's marks
// and servers both change in one run, one of them lacks an address for a moment whatever the
// order (the servers that join hold only the addresses after it, those that leave only those
// before), and the apply changes them in one exec.

const device = (forwarding: string): string => (forwarding === 'tun' ? 'tunl0' : forwarding === 'dr' ? 'lo' : 'eth0');

/** The addresses a host holds, each with the device its label names. */
function addresses(host: SimHost | undefined): Array<{ address: string; device: string }> {
  return [...(host?.facts.values() ?? [])].flatMap((facts) => ((facts as Partial<AddressFacts>).addresses ?? []).map((entry) => ({ address: entry.address, device: entry.label.split(':')[0] ?? '' })));
}

const holds = (host: SimHost | undefined, address: string, on: string): boolean => addresses(host).some((entry) => entry.address === address && entry.device === on);

const tableOf = (host: SimHost | undefined): Table => [...(host?.facts.values() ?? [])].flatMap((facts) => (facts as Partial<IpvsFacts>).table ?? []);

/** A protocol, a VIP and a port: what a new connection comes to. */
export type Flow = readonly [protocol: 'tcp' | 'udp', vip: string, port: number];

const flowText = ([protocol, vip, port]: Flow): string => `${protocol.toUpperCase()} ${vip}:${port}`;

/** The mark the host's firewall gives a packet to `vip`:`port` (the last rule that matches sets it), if any: a rule with ports marks only TCP. */
function markOf(host: SimHost | undefined, protocol: string, vip: string, port: number): number | undefined {
  let mark: number | undefined;
  for (const facts of host?.facts.values() ?? []) {
    const table = facts as Partial<NftTableFacts>;
    if (table.state !== 'present') continue;
    for (const rule of table.rules ?? []) {
      const match = /^ip daddr (\S+)(?: tcp dport (?:(\d+)|\{ ([\d, ]+) \}))? meta mark set 0x([0-9a-f]+)$/.exec(rule);
      if (match === null || match[1] !== vip) continue;
      const ports = match[2] !== undefined ? [Number(match[2])] : match[3] !== undefined ? match[3].split(', ').map(Number) : undefined;
      if (ports === undefined || (protocol === 'tcp' && ports.includes(port))) mark = parseInt(match[4] ?? '0', 16);
    }
  }
  return mark;
}

/**
 * The service a new connection of `flow` meets on a director, in the order IPVS looks them up
 * (ip_vs_service_find, net/netfilter/ipvs/ip_vs_ctl.c): the fwmark service of the packet's mark
 * if there is one; else the service of its protocol, address and port; else, where a service of
 * port 0 exists, the one of its protocol and address with port 0 (the "catch-all port"). So a
 * port service of a VIP takes its port from a port-0 service of the VIP, which keeps the others.
 */
function serviceFor(host: SimHost | undefined, [protocol, vip, port]: Flow): VirtualService | undefined {
  const table = tableOf(host);
  const mark = markOf(host, protocol, vip, port);
  const marked = mark === undefined ? undefined : table.find((service) => service.protocol === 'fwmark' && service.fwmark === mark);
  const exact = (at: number): VirtualService | undefined => table.find((service) => service.protocol === protocol && service.address === vip && service.port === at);
  return marked ?? exact(port) ?? exact(0);
}

interface Traffic {
  readonly cluster: ReadonlyMap<string, SimHost>;
  readonly directors: readonly string[];
  readonly realServers: ReadonlyMap<string, string>;
}

/**
 * Whether `flow` meets, on the cluster as it stands, a port service with no server taking new
 * connections that `end` no longer has, where the VIP's port-0 service takes the port: out of the
 * model (above).
 */
function leftToCatchAll({ cluster, directors }: Traffic, end: ReadonlyMap<string, SimHost>, flow: Flow): boolean {
  const holder = directors.find((name) => holds(cluster.get(name), flow[1], 'eth0'));
  const service = holder === undefined ? undefined : serviceFor(cluster.get(holder), flow);
  if (holder === undefined || service === undefined || service.protocol === 'fwmark' || service.port === 0 || service.realServers.some((server) => server.weight > 0)) return false;
  if (tableOf(end.get(holder)).some((entry) => serviceName(entry) === serviceName(service))) return false;
  return serviceFor(end.get(holder), flow)?.port === 0;
}

/**
 * Why a new connection of `flow` fails on the cluster as it stands; undefined: it is served.
 * `readiness`: also where a server it may be sent to lacks the VIP.
 */
function refused({ cluster, directors, realServers }: Traffic, flow: Flow, readiness = true): string | undefined {
  const vip = flow[1];
  const holders = directors.filter((name) => holds(cluster.get(name), vip, 'eth0'));
  if (holders.length !== 1) return holders.length === 0 ? 'no director holds the VIP' : `${holders.join(' and ')} hold the VIP`;
  const service = serviceFor(cluster.get(holders[0]!), flow);
  if (service === undefined) return `${holders[0]} has no service for it`;
  const weighted = service.realServers.filter((server) => server.weight > 0);
  if (weighted.length === 0) return `${holders[0]}'s ${serviceName(service)} has no server at a weight above 0`;
  if (!readiness) return undefined;
  const unready = weighted.filter((server) => !holds(cluster.get(realServers.get(server.address) ?? ''), vip, device(server.forwarding)));
  if (unready.length > 0) return `${holders[0]} sends ${serviceName(service)} to ${unready.map((server) => `${server.address} (${server.forwarding})`).join(', ')}, without the VIP on ${unready.map((server) => device(server.forwarding)).join(', ')}`;
  return undefined;
}

interface Connection {
  readonly director: string;
  readonly protocol: 'tcp' | 'udp';
  readonly vip: string;
  readonly port: number;
  readonly service: string;
  readonly server: string;
  readonly address: string;
  readonly forwarding: string;
  /** The wave after which it was made ('start': before the run). */
  readonly made: string;
}

const describe = (connection: Connection): string => `${connection.director} ${flowText([connection.protocol, connection.vip, connection.port])} -> ${connection.service} ${connection.server} (${connection.forwarding}, made ${connection.made === 'start' ? 'before the run' : `after ${connection.made}`})`;

/** The connections of `flow` made on the cluster as it stands: to every ready server of the service it meets, or only those taking new ones. */
function connections({ cluster, directors, realServers }: Traffic, flow: Flow, made: string): Connection[] {
  const [protocol, vip, port] = flow;
  return directors.flatMap((director) => {
    if (!holds(cluster.get(director), vip, 'eth0')) return [];
    const service = serviceFor(cluster.get(director), flow);
    return (service?.realServers ?? []).flatMap((server) => {
      const ready = holds(cluster.get(realServers.get(server.address) ?? ''), vip, device(server.forwarding));
      if (!ready || (made !== 'start' && server.weight === 0)) return [];
      return [{ director, protocol, vip, port, service: serviceName(service!), server: serverKey(serverRef(service!, server)), address: server.address, forwarding: server.forwarding, made }];
    });
  });
}

/** Whether the director deleted `connection`'s server (or its service) from its table. */
function deleted({ cluster }: Traffic, connection: Connection): boolean {
  const service = tableOf(cluster.get(connection.director)).find((entry) => serviceName(entry) === connection.service);
  return !service?.realServers.some((server) => serverKey(serverRef(service, server)) === connection.server);
}

/** Why `connection` is cut on the cluster as it stands; undefined: it goes on (a UDP one whose server was deleted is scheduled afresh: ended). */
function cut(traffic: Traffic, connection: Connection): string | undefined {
  const { cluster, realServers } = traffic;
  const director = cluster.get(connection.director);
  if (!holds(director, connection.vip, 'eth0')) return `${connection.director} no longer holds ${connection.vip}`;
  if (deleted(traffic, connection)) return connection.protocol === 'udp' ? undefined : `${connection.director} deleted it from its table`;
  const host = realServers.get(connection.address) ?? '';
  if (!holds(cluster.get(host), connection.vip, device(connection.forwarding))) return `${host} no longer holds ${connection.vip} on ${device(connection.forwarding)}`;
  return undefined;
}

/** Whether a director's drain waits for `connection` (a switched server's: only those made by its old method, before balance, of a protocol its switch lists). */
function drained(drains: readonly Drain[], connection: Connection): boolean {
  const drain = drains.find((entry) => entry.host === connection.director);
  const entry = drain?.servers.find((server) => serverKey(server) === connection.server && (server.vips === undefined || server.vips.includes(connection.vip)));
  if (entry === undefined) return false;
  const switched = drain?.switched?.find((rebinding) => serverKey(rebinding.server) === connection.server);
  return switched === undefined || (Object.hasOwn(BOUND_ENTRIES, connection.protocol) && switched.from === connection.forwarding && (connection.made === 'start' || connection.made === 'prepare'));
}

/** The protocols and VIPs some director of `cluster` has a service or a mark for, as `PROTOCOL VIP`: the only flows any director serves. */
function inUse(cluster: ReadonlyMap<string, SimHost>, directors: readonly string[]): Set<string> {
  const used = new Set<string>();
  for (const name of directors) {
    const host = cluster.get(name);
    for (const service of tableOf(host)) if (service.protocol !== 'fwmark') used.add(`${service.protocol} ${service.address}`);
    for (const facts of host?.facts.values() ?? []) {
      const table = facts as Partial<NftTableFacts>;
      if (table.state !== 'present') continue;
      for (const rule of table.rules ?? []) {
        const match = /^ip daddr (\S+)( tcp dport)?/.exec(rule);
        if (match?.[1] === undefined) continue;
        used.add(`tcp ${match[1]}`);
        if (match[2] === undefined) used.add(`udp ${match[1]}`);
      }
    }
  }
  return used;
}

/**
 * Every way the plan breaks an operator's two rules on the cluster `start` (left as it is), for
 * the VIPs, ports and protocols given (TCP unless said). `realServers`: real-server address -> host.
 */
export function trafficProblems(
  start: ReadonlyMap<string, SimHost>,
  inventory: Inventory,
  plans: ReadonlyMap<string, readonly PlannedChange[]>,
  waves: WavePlan,
  { vips, ports, protocols = ['tcp'], directors, realServers }: { vips: readonly string[]; ports: readonly number[]; protocols?: ReadonlyArray<Flow[0]>; directors: readonly string[]; realServers: ReadonlyMap<string, string> },
): string[] {
  const problems: string[] = [];
  // A VIP that another director takes over in the run: out of the model (see above).
  const moved = new Set([...plans].flatMap(([, changes]) => changes.flatMap((change) => change.handedOver?.to.length ? (change.releases ?? []) : [])));
  const traffic = (cluster: ReadonlyMap<string, SimHost>): Traffic => ({ cluster, directors, realServers });

  // The end state first: which flows are served before the run and after it.
  const end = copyCluster(start);
  for (const [host, changes] of plans) for (const change of changes) applyChange(end, inventory, host, change);
  // Only the protocols and VIPs a director serves before the run or after it: no state in
  // between has a service or a mark that neither has (each is added or removed once).
  const used = new Set([...inUse(start, directors), ...inUse(end, directors)]);
  const flows = protocols.flatMap((protocol) => vips.filter((vip) => used.has(`${protocol} ${vip}`)).flatMap((vip) => ports.map((port): Flow => [protocol, vip, port])));
  const servedAtStart = new Set(flows.filter((flow) => refused(traffic(start), flow) === undefined).map(String));
  const servedAtEnd = new Set(flows.filter((flow) => refused(traffic(end), flow) === undefined).map(String));
  const servedThroughout = flows.filter((flow) => servedAtStart.has(String(flow)) && servedAtEnd.has(String(flow)) && !moved.has(flow[1]));
  const throughout = new Set(servedThroughout.map(String));

  const cluster = copyCluster(start);
  let open = flows.flatMap((flow) => connections(traffic(cluster), flow, 'start'));
  for (const phase of CHANGE_PHASES) {
    if (phase === 'balance') problems.push(...balanceSteps(cluster, end, inventory, plans, servedThroughout, traffic));
    for (const [host, changes] of plans) for (const change of changesIn(changes, phase)) applyChange(cluster, inventory, host, change);
    if (phase === 'withdraw') open = open.filter((connection) => !drained(waves.drains, connection));
    // A UDP entry whose server went is scheduled afresh (above): it ended here.
    open = open.filter((connection) => connection.protocol !== 'udp' || !deleted(traffic(cluster), connection));
    for (const connection of open) {
      if (moved.has(connection.vip)) continue;
      const why = cut(traffic(cluster), connection);
      if (why !== undefined) problems.push(`after ${phase}: ${describe(connection)} cut: ${why}`);
    }
    open = open.filter((connection) => !moved.has(connection.vip) && cut(traffic(cluster), connection) === undefined);
    // Served before the run: until balance changes it; served after it: from balance on.
    for (const flow of flows) {
      const key = String(flow);
      const must = throughout.has(key) || (phase === 'prepare' && servedAtStart.has(key)) || (phaseAfter(phase, 'prepare') && servedAtEnd.has(key));
      const why = must && !leftToCatchAll(traffic(cluster), end, flow) ? refused(traffic(cluster), flow) : undefined;
      if (why !== undefined) problems.push(`after ${phase}: a new connection to ${flowText(flow)} fails: ${why}`);
    }
    // Whatever either inventory serves: a director that holds a VIP sends no new connection to a
    // server without it (one whose host failed to prepare, or took it off too early).
    for (const flow of flows) {
      const vip = flow[1];
      if (moved.has(vip)) continue;
      for (const director of directors.filter((name) => holds(cluster.get(name), vip, 'eth0'))) {
        const service = serviceFor(cluster.get(director), flow);
        const unready = (service?.realServers ?? []).filter((server) => server.weight > 0 && !holds(cluster.get(realServers.get(server.address) ?? ''), vip, device(server.forwarding)));
        if (service !== undefined && unready.length > 0) problems.push(`after ${phase}: ${director} sends new connections to ${flowText(flow)} (${serviceName(service)}) to ${unready.map((server) => `${server.address} (${server.forwarding})`).join(', ')}, without the VIP`);
      }
    }
    // The drain runs between reroute and withdraw: the connections made up to then are its to
    // wait for, and those it waited for are gone once withdraw ran (above).
    if (phase !== 'retire') open.push(...flows.flatMap((flow) => connections(traffic(cluster), flow, phase)));
  }
  return [...new Set(problems)];
}

const phaseAfter = (phase: ChangePhase, than: ChangePhase): boolean => CHANGE_PHASES.indexOf(phase) > CHANGE_PHASES.indexOf(than);

/**
 * Whether `flow` meets a port service `before` (the director as the run found it) did not have:
 * one added in this balance, between its `ipvsadm -A` and its `-a` of a server at a weight above
 * 0, commands of the same exec. It takes the port from the VIP's port-0 service at once (IPVS
 * looks it up first), and no ipvsadm command adds a service with its servers: out of the model,
 * as a scheduler swap's moment is.
 */
function justAdded(director: SimHost | undefined, before: SimHost | undefined, flow: Flow): boolean {
  const service = serviceFor(director, flow);
  return service !== undefined && service.protocol !== 'fwmark' && service.port !== 0 && !tableOf(before).some((entry) => serviceName(entry) === serviceName(service));
}

/** Within balance, each director's changes one by one, the others as prepare left them: the flows it serves throughout stay served. */
function balanceSteps(cluster: ReadonlyMap<string, SimHost>, end: ReadonlyMap<string, SimHost>, inventory: Inventory, plans: ReadonlyMap<string, readonly PlannedChange[]>, served: readonly Flow[], traffic: (cluster: ReadonlyMap<string, SimHost>) => Traffic): string[] {
  const problems: string[] = [];
  for (const [host, changes] of plans) {
    const balance = changesIn(changes, 'balance');
    const own = served.filter(([, vip]) => holds(cluster.get(host), vip, 'eth0'));
    if (balance.length === 0 || own.length === 0) continue;
    const steps = copyCluster(cluster);
    for (const change of balance) {
      applyChange(steps, inventory, host, change);
      for (const flow of own) {
        const why = leftToCatchAll(traffic(steps), end, flow) || justAdded(steps.get(host), cluster.get(host), flow) ? undefined : refused(traffic(steps), flow, false);
        if (why !== undefined) problems.push(`in ${host}'s balance, after "${change.summary}": a new connection to ${flowText(flow)} fails: ${why}`);
      }
    }
  }
  return problems;
}
