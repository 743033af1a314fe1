import type { PlannedChange } from '../../src/engine/events.js';
import { changesIn } from '../../src/engine/host-plan.js';
import { serverKey, type Drain, type WavePlan } from '../../src/engine/wave-plan.js';
import type { AddressFacts } from '../../src/resources/address.js';
import type { IpvsFacts } from '../../src/resources/ipvs/probe.js';
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
// Out of the model: a VIP another director takes over in the run (its connections end at the
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

/** The mark the host's firewall gives a TCP packet to `vip`:`port` (the last rule that matches sets it), if any. */
function markOf(host: SimHost | undefined, vip: string, port: number): number | undefined {
  let mark: number | undefined;
  for (const facts of host?.facts.values() ?? []) {
    const table = facts as Partial<NftTableFacts>;
    if (table.state !== 'present') continue;
    for (const rule of table.rules ?? []) {
      const match = /^ip daddr (\S+)(?: tcp dport (?:(\d+)|\{ ([\d, ]+) \}))? meta mark set 0x([0-9a-f]+)$/.exec(rule);
      if (match === null || match[1] !== vip) continue;
      const ports = match[2] !== undefined ? [Number(match[2])] : match[3] !== undefined ? match[3].split(', ').map(Number) : undefined;
      if (ports === undefined || ports.includes(port)) mark = parseInt(match[4] ?? '0', 16);
    }
  }
  return mark;
}

/** The service a new connection to `vip`:`port` meets on a director: its mark's, else the address and port's (as IPVS looks them up). */
function serviceFor(host: SimHost | undefined, vip: string, port: number): VirtualService | undefined {
  const table = tableOf(host);
  const mark = markOf(host, vip, port);
  const marked = mark === undefined ? undefined : table.find((service) => service.protocol === 'fwmark' && service.fwmark === mark);
  return marked ?? table.find((service) => service.protocol === 'tcp' && service.address === vip && service.port === port);
}

interface Traffic {
  readonly cluster: ReadonlyMap<string, SimHost>;
  readonly directors: readonly string[];
  readonly realServers: ReadonlyMap<string, string>;
}

/**
 * Why a new connection to `vip`:`port` fails on the cluster as it stands; undefined: it is served.
 * `readiness`: also where a server it may be sent to lacks the VIP.
 */
function refused({ cluster, directors, realServers }: Traffic, vip: string, port: number, readiness = true): string | undefined {
  const holders = directors.filter((name) => holds(cluster.get(name), vip, 'eth0'));
  if (holders.length !== 1) return holders.length === 0 ? 'no director holds the VIP' : `${holders.join(' and ')} hold the VIP`;
  const service = serviceFor(cluster.get(holders[0]!), vip, port);
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
  readonly vip: string;
  readonly port: number;
  readonly service: string;
  readonly server: string;
  readonly address: string;
  readonly forwarding: string;
  /** The wave after which it was made ('start': before the run). */
  readonly made: string;
}

const describe = (connection: Connection): string => `${connection.director} ${connection.vip}:${connection.port} -> ${connection.service} ${connection.server} (${connection.forwarding}, made ${connection.made === 'start' ? 'before the run' : `after ${connection.made}`})`;

/** The connections made to `vip`:`port` on the cluster as it stands: to every ready server of the service it meets, or only those taking new ones. */
function connections({ cluster, directors, realServers }: Traffic, vip: string, port: number, made: string): Connection[] {
  return directors.flatMap((director) => {
    if (!holds(cluster.get(director), vip, 'eth0')) return [];
    const service = serviceFor(cluster.get(director), vip, port);
    return (service?.realServers ?? []).flatMap((server) => {
      const ready = holds(cluster.get(realServers.get(server.address) ?? ''), vip, device(server.forwarding));
      if (!ready || (made !== 'start' && server.weight === 0)) return [];
      return [{ director, vip, port, service: serviceName(service!), server: serverKey(serverRef(service!, server)), address: server.address, forwarding: server.forwarding, made }];
    });
  });
}

/** Why `connection` is cut on the cluster as it stands; undefined: it goes on. */
function cut({ cluster, realServers }: Traffic, connection: Connection): string | undefined {
  const director = cluster.get(connection.director);
  if (!holds(director, connection.vip, 'eth0')) return `${connection.director} no longer holds ${connection.vip}`;
  const service = tableOf(director).find((entry) => serviceName(entry) === connection.service);
  if (!service?.realServers.some((server) => serverKey(serverRef(service, server)) === connection.server)) return `${connection.director} deleted it from its table`;
  const host = realServers.get(connection.address) ?? '';
  if (!holds(cluster.get(host), connection.vip, device(connection.forwarding))) return `${host} no longer holds ${connection.vip} on ${device(connection.forwarding)}`;
  return undefined;
}

/** Whether a director's drain waits for `connection` (a switched server's: only those made by its old method, before balance). */
function drained(drains: readonly Drain[], connection: Connection): boolean {
  const drain = drains.find((entry) => entry.host === connection.director);
  const entry = drain?.servers.find((server) => serverKey(server) === connection.server && (server.vips === undefined || server.vips.includes(connection.vip)));
  if (entry === undefined) return false;
  const switched = drain?.switched?.find((rebinding) => serverKey(rebinding.server) === connection.server);
  return switched === undefined || (switched.from === connection.forwarding && (connection.made === 'start' || connection.made === 'prepare'));
}

/**
 * Every way the plan breaks an operator's two rules on the cluster `start` (left as it is), for
 * the VIPs and ports given. `realServers`: real-server address -> host.
 */
export function trafficProblems(
  start: ReadonlyMap<string, SimHost>,
  inventory: Inventory,
  plans: ReadonlyMap<string, readonly PlannedChange[]>,
  waves: WavePlan,
  { vips, ports, directors, realServers }: { vips: readonly string[]; ports: readonly number[]; directors: readonly string[]; realServers: ReadonlyMap<string, string> },
): string[] {
  const problems: string[] = [];
  const pairs = vips.flatMap((vip) => ports.map((port): [string, number] => [vip, port]));
  // A VIP that another director takes over in the run: out of the model (see above).
  const moved = new Set([...plans].flatMap(([, changes]) => changes.flatMap((change) => change.handedOver?.to.length ? (change.releases ?? []) : [])));
  const traffic = (cluster: ReadonlyMap<string, SimHost>): Traffic => ({ cluster, directors, realServers });

  // The end state first: which pairs are served before the run and after it.
  const end = copyCluster(start);
  for (const [host, changes] of plans) for (const change of changes) applyChange(end, inventory, host, change);
  const servedAtStart = new Set(pairs.filter(([vip, port]) => refused(traffic(start), vip, port) === undefined).map(String));
  const servedAtEnd = new Set(pairs.filter(([vip, port]) => refused(traffic(end), vip, port) === undefined).map(String));
  const servedThroughout = pairs.filter((pair) => servedAtStart.has(String(pair)) && servedAtEnd.has(String(pair)) && !moved.has(pair[0]));

  const cluster = copyCluster(start);
  let open = pairs.flatMap(([vip, port]) => connections(traffic(cluster), vip, port, 'start'));
  for (const phase of CHANGE_PHASES) {
    if (phase === 'balance') problems.push(...balanceSteps(cluster, inventory, plans, servedThroughout, traffic));
    for (const [host, changes] of plans) for (const change of changesIn(changes, phase)) applyChange(cluster, inventory, host, change);
    if (phase === 'withdraw') open = open.filter((connection) => !drained(waves.drains, connection));
    for (const connection of open) {
      if (moved.has(connection.vip)) continue;
      const why = cut(traffic(cluster), connection);
      if (why !== undefined) problems.push(`after ${phase}: ${describe(connection)} cut: ${why}`);
    }
    open = open.filter((connection) => !moved.has(connection.vip) && cut(traffic(cluster), connection) === undefined);
    // Served before the run: until balance changes it; served after it: from balance on.
    for (const [vip, port] of pairs) {
      const pair = String([vip, port]);
      const must = servedThroughout.some((entry) => String(entry) === pair) || (phase === 'prepare' && servedAtStart.has(pair)) || (phaseAfter(phase, 'prepare') && servedAtEnd.has(pair));
      const why = must ? refused(traffic(cluster), vip, port) : undefined;
      if (why !== undefined) problems.push(`after ${phase}: a new connection to ${vip}:${port} fails: ${why}`);
    }
    // Whatever either inventory serves: a director that holds a VIP sends no new connection to a
    // server without it (one whose host failed to prepare, or took it off too early).
    for (const [vip, port] of pairs) {
      if (moved.has(vip)) continue;
      for (const director of directors.filter((name) => holds(cluster.get(name), vip, 'eth0'))) {
        const service = serviceFor(cluster.get(director), vip, port);
        const unready = (service?.realServers ?? []).filter((server) => server.weight > 0 && !holds(cluster.get(realServers.get(server.address) ?? ''), vip, device(server.forwarding)));
        if (service !== undefined && unready.length > 0) problems.push(`after ${phase}: ${director} sends new connections to ${vip}:${port} (${serviceName(service)}) to ${unready.map((server) => `${server.address} (${server.forwarding})`).join(', ')}, without the VIP`);
      }
    }
    // The drain runs between reroute and withdraw: the connections made up to then are its to
    // wait for, and those it waited for are gone once withdraw ran (above).
    if (phase !== 'retire') open.push(...pairs.flatMap(([vip, port]) => connections(traffic(cluster), vip, port, phase)));
  }
  return [...new Set(problems)];
}

const phaseAfter = (phase: ChangePhase, than: ChangePhase): boolean => CHANGE_PHASES.indexOf(phase) > CHANGE_PHASES.indexOf(than);

/** Within balance, each director's changes one by one, the others as prepare left them: the pairs it serves throughout stay served. */
function balanceSteps(cluster: ReadonlyMap<string, SimHost>, inventory: Inventory, plans: ReadonlyMap<string, readonly PlannedChange[]>, served: ReadonlyArray<[string, number]>, traffic: (cluster: ReadonlyMap<string, SimHost>) => Traffic): string[] {
  const problems: string[] = [];
  for (const [host, changes] of plans) {
    const balance = changesIn(changes, 'balance');
    const own = served.filter(([vip]) => holds(cluster.get(host), vip, 'eth0'));
    if (balance.length === 0 || own.length === 0) continue;
    const steps = copyCluster(cluster);
    for (const change of balance) {
      applyChange(steps, inventory, host, change);
      for (const [vip, port] of own) {
        const why = refused(traffic(steps), vip, port, false);
        if (why !== undefined) problems.push(`in ${host}'s balance, after "${change.summary}": a new connection to ${vip}:${port} fails: ${why}`);
      }
    }
  }
  return problems;
}
