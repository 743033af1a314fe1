import type { Inventory } from './cluster-sim.js';
import { director, marked, realServer, tcp, udp, type MarkRule, type Server, type Service } from './cross-host-cases.js';
import { pick } from './seeded-random.js';

// Random inventories of a small LVS cluster for the cross-host random walk
// (cross-host-random.test.ts), in the vocabulary of the hand-written cases: one or two plain
// directors (dir1, dir2; no HA, so a VIP has one director at most), up to four DR or TUN real
// servers (rs1..rs4) carrying exactly the VIPs of the services that list them, as the realserver
// roles make them. Port services are TCP or UDP (one VIP and port may have both: two IPVS
// services), on one port or on every port of their VIP (port 0, persistent, as ipvsadm requires);
// fwmark services mark TCP ports only, as the director role's `ports` does. A cluster is kept as a small model; each step of the walk mutates it the way an
// operator edits an inventory, and the model is rendered as the inventory and as the lines a
// failure prints (code a hand-written case can take as it is).
//
// NAT is left out: a NAT real server's role is its default route and source route, which the
// cluster simulation does not model (it reads address, ipvs and fwmark facts only).

export const DIRECTORS = ['dir1', 'dir2'] as const;
export const REAL_SERVERS = ['rs1', 'rs2', 'rs3', 'rs4'] as const;
export type DirectorHost = (typeof DIRECTORS)[number];
export type RealServerHost = (typeof REAL_SERVERS)[number];
type Method = 'dr' | 'tun';

/** The addresses, with the names the hand-written cases give them. */
export const VIPS = ['198.51.100.50', '198.51.100.51', '198.51.100.52', '198.51.100.53'] as const;
export const RIPS: Record<RealServerHost, string> = { rs1: '192.0.2.11', rs2: '192.0.2.12', rs3: '192.0.2.13', rs4: '192.0.2.14' };
export const PORTS = [80, 443, 8080] as const;
/** A port no service names: only a port-0 service takes its connections. */
export const OTHER_PORT = 9000;
export const PROTOCOLS = ['tcp', 'udp'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
const MARKS = [1, 2] as const;
const WEIGHTS = [0, 1, 1, 1, 3] as const;
/** ipvsadm -p TIMEOUT [-M NETMASK]: one client per entry unless a netmask groups a network's clients. */
export interface Persistence {
  timeout: number;
  netmask?: string;
}
const PERSISTENCE: ReadonlyArray<Persistence | undefined> = [undefined, undefined, { timeout: 300 }, { timeout: 900 }, { timeout: 300, netmask: '255.255.255.0' }];
/** Persistent: what a port-0 service needs. */
const PERSISTENT: readonly Persistence[] = PERSISTENCE.filter((entry): entry is Persistence => entry !== undefined);
const SCHEDULERS = ['wrr', 'wrr', 'rr', 'wlc'] as const;

export interface Member {
  host: RealServerHost;
  weight: number;
}

interface Settings {
  scheduler: string;
  /** None: not persistent. */
  persistence: Persistence | undefined;
  members: Member[];
}

export interface PortService extends Settings {
  kind: 'port';
  protocol: Protocol;
  vip: string;
  /** 0: every port of the VIP (persistent). */
  port: number;
}

/** A fwmark service with the marks its director gives it: each VIP with its TCP ports. */
export interface MarkService extends Settings {
  kind: 'mark';
  mark: number;
  covers: Array<{ vip: string; ports: number[] }>;
}

export type ServiceModel = PortService | MarkService;

export interface ClusterModel {
  /** A director's services; undefined: the host has no role; []: an IPVS task that lists none. */
  directors: Partial<Record<DirectorHost, ServiceModel[]>>;
  /** How every director sends to each real server (its VIPs on lo for DR, tunl0 for TUN). */
  forwarding: Record<RealServerHost, Method>;
}

export const emptyCluster = (): ClusterModel => ({ directors: {}, forwarding: { rs1: 'dr', rs2: 'dr', rs3: 'dr', rs4: 'dr' } });

const vipsOf = (service: ServiceModel): string[] => (service.kind === 'port' ? [service.vip] : service.covers.map((cover) => cover.vip));
/** What a service claims: `PROTOCOL VIP:PORT` (a mark's: TCP ports); a port-0 service claims its own `:0`, which port services of its VIP leave to it. */
const claimsOf = (service: ServiceModel): string[] => (service.kind === 'port' ? [`${service.protocol} ${service.vip}:${service.port}`] : service.covers.flatMap((cover) => cover.ports.map((port) => `tcp ${cover.vip}:${port}`)));
const heldBy = (services: readonly ServiceModel[] | undefined): Set<string> => new Set((services ?? []).flatMap(vipsOf));
const otherDirector = (host: DirectorHost): DirectorHost => (host === 'dir1' ? 'dir2' : 'dir1');

/** What makes a model no inventory the roles would accept or an operator would write; none: fine. */
export function problems(model: ClusterModel): string[] {
  const found: string[] = [];
  const dir1 = heldBy(model.directors.dir1);
  for (const vip of heldBy(model.directors.dir2)) if (dir1.has(vip)) found.push(`${vip} on both directors`);
  for (const host of DIRECTORS) {
    const services = model.directors[host] ?? [];
    // One (protocol, VIP, port) meets one service: a port service, or one mark (a marked TCP port
    // would shadow a TCP port service: shadowed-services.ts). A port-0 service under them is layered on purpose.
    const claimed = services.flatMap(claimsOf);
    if (new Set(claimed).size !== claimed.length) found.push(`${host}: a protocol, VIP and port claimed twice`);
    const marks = services.flatMap((service) => (service.kind === 'mark' ? [service.mark] : []));
    if (new Set(marks).size !== marks.length) found.push(`${host}: a mark twice`);
    for (const service of services) {
      if (service.members.length === 0) found.push(`${host}: a service without servers`);
      if (new Set(service.members.map((member) => member.host)).size !== service.members.length) found.push(`${host}: a server twice`);
      if (service.kind === 'mark' && (service.covers.length === 0 || service.covers.some((cover) => cover.ports.length === 0))) found.push(`${host}: a mark covering nothing`);
      if (service.kind === 'mark' && new Set(service.covers.map((cover) => cover.vip)).size !== service.covers.length) found.push(`${host}: a mark covering a VIP twice`);
      if (service.kind === 'port' && service.port === 0 && service.persistence === undefined) found.push(`${host}: port 0 without persistence (the inventory refuses it, as ipvsadm does)`);
    }
  }
  return found;
}

const subset = <T,>(random: () => number, items: readonly T[], least = 1): T[] => {
  const chosen = items.filter(() => random() < 0.5);
  while (chosen.length < least) {
    const item = pick(random, items);
    if (!chosen.includes(item)) chosen.push(item);
  }
  return items.filter((item) => chosen.includes(item));
};

const members = (random: () => number): Member[] => subset(random, REAL_SERVERS).slice(0, 3).map((host) => ({ host, weight: pick(random, WEIGHTS) }));
const settings = (random: () => number): Settings => ({ scheduler: pick(random, SCHEDULERS), persistence: pick(random, PERSISTENCE), members: members(random) });

/** A VIP the other director does not hold (any VIP where it holds all: problems refuses that draw). */
const freeVip = (random: () => number, model: ClusterModel, host: DirectorHost): string => {
  const taken = heldBy(model.directors[otherDirector(host)]);
  const free = VIPS.filter((vip) => !taken.has(vip));
  return pick(random, free.length > 0 ? free : VIPS);
};

/** A port service: TCP mostly, one in six on every port of its VIP (then persistent). */
function portService(random: () => number, model: ClusterModel, host: DirectorHost): PortService {
  const service: PortService = { kind: 'port', protocol: random() < 0.7 ? 'tcp' : 'udp', vip: freeVip(random, model, host), port: random() < 0.16 ? 0 : pick(random, PORTS), ...settings(random) };
  if (service.port === 0) service.persistence ??= pick(random, PERSISTENT);
  return service;
}

const randomService = (random: () => number, model: ClusterModel, host: DirectorHost): ServiceModel =>
  random() < 0.6
    ? portService(random, model, host)
    : { kind: 'mark', mark: pick(random, MARKS), covers: [...new Set([freeVip(random, model, host), ...(random() < 0.4 ? [freeVip(random, model, host)] : [])])].map((vip) => ({ vip, ports: subset(random, PORTS) })), ...settings(random) };

/** A cluster from nothing: every director and real server drawn afresh, until the draw is valid (problems). */
export function randomCluster(random: () => number): ClusterModel {
  for (;;) {
    const model = emptyCluster();
    for (const host of REAL_SERVERS) model.forwarding[host] = random() < 0.7 ? 'dr' : 'tun';
    for (const host of DIRECTORS) {
      if (host === 'dir2' && random() < 0.5) continue;
      const services: ServiceModel[] = [];
      model.directors[host] = services;
      const count = 1 + Math.floor(random() * 3);
      for (let index = 0; index < count; index += 1) services.push(randomService(random, model, host));
    }
    if (problems(model).length === 0) return model;
  }
}

type Mutation = (random: () => number, model: ClusterModel) => void;

/** Every service of the cluster with its director. */
const allServices = (model: ClusterModel): Array<{ host: DirectorHost; services: ServiceModel[]; service: ServiceModel }> =>
  DIRECTORS.flatMap((host) => (model.directors[host] ?? []).map((service) => ({ host, services: model.directors[host] ?? [], service })));

const withService = (mutate: (random: () => number, service: ServiceModel, services: ServiceModel[], host: DirectorHost, model: ClusterModel) => void): Mutation => (random, model) => {
  const all = allServices(model);
  if (all.length === 0) return;
  const { host, services, service } = pick(random, all);
  mutate(random, service, services, host, model);
};

/** Move every service and mark of `vip` from `from` to the other director. */
function moveVip(model: ClusterModel, vip: string, from: DirectorHost): void {
  const to = otherDirector(from);
  const source = model.directors[from] ?? [];
  const target = (model.directors[to] ??= []);
  for (const service of [...source]) {
    if (service.kind === 'port') {
      if (service.vip !== vip) continue;
      source.splice(source.indexOf(service), 1);
      target.push(service);
      continue;
    }
    const cover = service.covers.find((entry) => entry.vip === vip);
    if (cover === undefined) continue;
    service.covers = service.covers.filter((entry) => entry !== cover);
    if (service.covers.length === 0) source.splice(source.indexOf(service), 1);
    const there = target.find((other): other is MarkService => other.kind === 'mark' && other.mark === service.mark);
    if (there) there.covers.push(cover);
    else target.push({ ...structuredClone(service), covers: [cover] });
  }
}

/** Replace `from` by `to` in every service and mark of a director. */
function renumber(services: ServiceModel[], from: string, to: string): void {
  for (const service of services) {
    if (service.kind === 'port' && service.vip === from) service.vip = to;
    if (service.kind === 'mark') for (const cover of service.covers) if (cover.vip === from) cover.vip = to;
  }
}

const MUTATIONS: ReadonlyArray<[string, number, Mutation]> = [
  ['add a service', 3, (random, model) => {
    const host = random() < 0.7 ? 'dir1' : 'dir2';
    (model.directors[host] ??= []).push(randomService(random, model, host));
  }],
  ['remove a service whole', 3, withService((_, service, services) => void services.splice(services.indexOf(service), 1))],
  ['add a real server', 3, withService((random, service) => void service.members.push({ host: pick(random, REAL_SERVERS), weight: pick(random, WEIGHTS) }))],
  ['remove a real server', 3, withService((random, service) => void service.members.splice(Math.floor(random() * service.members.length), 1))],
  ['weigh a real server', 3, withService((random, service) => {
    if (service.members.length > 0) pick(random, service.members).weight = pick(random, WEIGHTS);
  })],
  ['replace a real server: the new one added, the old one at weight 0 or gone', 2, withService((random, service) => {
    const old = service.members.length > 0 ? pick(random, service.members) : undefined;
    if (old !== undefined && random() < 0.5) old.weight = 0;
    else if (old !== undefined) service.members.splice(service.members.indexOf(old), 1);
    service.members.push({ host: pick(random, REAL_SERVERS), weight: pick(random, [1, 3]) });
  })],
  ['a real server leaves every service', 1, (random, model) => {
    const host = pick(random, REAL_SERVERS);
    for (const { service } of allServices(model)) service.members = service.members.filter((member) => member.host !== host);
  }],
  ['persistence or scheduler', 2, withService((random, service) => {
    // A port-0 service stays persistent (a draw without is refused: problems).
    if (random() < 0.6) service.persistence = pick(random, PERSISTENCE);
    else service.scheduler = pick(random, SCHEDULERS);
  })],
  ['a persistence netmask or timeout only', 1, withService((random, service) => {
    if (service.persistence === undefined) return;
    if (random() < 0.5) service.persistence = { ...service.persistence, timeout: service.persistence.timeout === 300 ? 900 : 300 };
    else service.persistence = service.persistence.netmask === undefined ? { ...service.persistence, netmask: pick(random, ['255.255.255.0', '255.255.0.0']) } : { timeout: service.persistence.timeout };
  })],
  ['switch a real server between DR and TUN', 2, (random, model) => {
    const host = pick(random, REAL_SERVERS);
    model.forwarding[host] = model.forwarding[host] === 'dr' ? 'tun' : 'dr';
  }],
  ['change a port', 2, withService((random, service) => {
    if (service.kind === 'port') service.port = random() < 0.2 ? 0 : pick(random, PORTS);
    else if (service.covers.length > 0) pick(random, service.covers).ports = subset(random, PORTS);
  })],
  ['renumber a VIP', 2, withService((random, service, services, host, model) => {
    if (vipsOf(service).length > 0) renumber(services, pick(random, vipsOf(service)), freeVip(random, model, host));
  })],
  ['move a VIP to the other director', 3, withService((random, service, _services, host, model) => {
    if (vipsOf(service).length > 0) moveVip(model, pick(random, vipsOf(service)), host);
  })],
  ['replace one director by the other', 1, (random, model) => {
    const from = pick(random, DIRECTORS);
    for (const vip of heldBy(model.directors[from])) moveVip(model, vip, from);
    if (random() < 0.5) model.directors[from] = undefined;
  }],
  ['a mark covers one more VIP', 2, withService((random, service, _services, host, model) => {
    if (service.kind === 'mark') service.covers.push({ vip: freeVip(random, model, host), ports: subset(random, PORTS) });
  })],
  ['a mark covers one VIP less', 2, withService((random, service) => {
    if (service.kind === 'mark') service.covers.splice(Math.floor(random() * service.covers.length), 1);
  })],
  ['port services become a fwmark service', 2, withService((random, service, services) => {
    // The marks are TCP ports': a VIP's UDP services and its port-0 service stay.
    if (service.kind !== 'port' || service.protocol !== 'tcp' || service.port === 0) return;
    const same = services.filter((other): other is PortService => other.kind === 'port' && other.protocol === 'tcp' && other.port !== 0 && other.vip === service.vip);
    const mark = pick(random, MARKS);
    const existing = services.find((other): other is MarkService => other.kind === 'mark' && other.mark === mark);
    for (const other of same) services.splice(services.indexOf(other), 1);
    const cover = { vip: service.vip, ports: same.map((other) => other.port) };
    if (existing) existing.covers.push(cover);
    else services.push({ kind: 'mark', mark, covers: [cover], scheduler: service.scheduler, persistence: service.persistence, members: structuredClone(service.members) });
  })],
  ['a fwmark service becomes port services', 2, withService((_, service, services) => {
    if (service.kind !== 'mark') return;
    services.splice(services.indexOf(service), 1, ...service.covers.flatMap((cover) => cover.ports.map((port): PortService => ({ kind: 'port', protocol: 'tcp', vip: cover.vip, port, scheduler: service.scheduler, persistence: service.persistence, members: structuredClone(service.members) }))));
  })],
  ['a port service changes protocol (TCP and UDP)', 2, withService((_, service) => {
    if (service.kind === 'port') service.protocol = service.protocol === 'tcp' ? 'udp' : 'tcp';
  })],
  ['the same VIP and port served in the other protocol too', 2, withService((random, service, services) => {
    if (service.kind === 'port') services.push({ ...structuredClone(service), protocol: service.protocol === 'tcp' ? 'udp' : 'tcp', ...(random() < 0.5 ? { members: members(random) } : {}) });
  })],
  ["a VIP's port services of one protocol become one port-0 service", 2, withService((random, service, services) => {
    if (service.kind !== 'port') return;
    const same = services.filter((other): other is PortService => other.kind === 'port' && other.protocol === service.protocol && other.vip === service.vip);
    for (const other of same) services.splice(services.indexOf(other), 1);
    services.push({ ...structuredClone(service), port: 0, persistence: service.persistence ?? pick(random, PERSISTENT) });
  })],
  ['a port-0 service becomes port services', 2, withService((random, service, services) => {
    if (service.kind !== 'port' || service.port !== 0) return;
    // Persistence goes with it or stays (a port service may be persistent too).
    const persistence = random() < 0.5 ? undefined : service.persistence;
    services.splice(services.indexOf(service), 1, ...subset(random, PORTS).map((port): PortService => ({ ...structuredClone(service), port, persistence })));
  })],
  ['a port service added under a port-0 service, or a port-0 service under port services', 2, withService((random, service, services) => {
    if (service.kind !== 'port') return;
    if (service.port === 0) services.push({ ...structuredClone(service), port: pick(random, PORTS), persistence: pick(random, PERSISTENCE), members: members(random) });
    else services.push({ ...structuredClone(service), port: 0, persistence: pick(random, PERSISTENT), members: members(random) });
  })],
  ['a director loses every service (and its role, or keeps an IPVS task listing none)', 1, (random, model) => {
    const host = pick(random, DIRECTORS);
    model.directors[host] = random() < 0.5 ? undefined : [];
  }],
  ['a new cluster', 1, (random, model) => Object.assign(model, randomCluster(random))],
];

const TOTAL_WEIGHT = MUTATIONS.reduce((sum, [, weight]) => sum + weight, 0);

/** The kinds of edit mutate makes, by name. */
export const EDITS: readonly string[] = MUTATIONS.map(([name]) => name);

/**
 * The next inventory of the walk: one to three edits of `model`, drawn again until the result is
 * valid (problems) and differs from `model`. Returns the model and the edits' names.
 */
export function mutate(random: () => number, model: ClusterModel): { model: ClusterModel; edits: string[] } {
  for (;;) {
    const next = structuredClone(model);
    const edits: string[] = [];
    const count = 1 + Math.floor(random() * random() * 3);
    for (let index = 0; index < count; index += 1) {
      let draw = random() * TOTAL_WEIGHT;
      const entry = MUTATIONS.find(([, weight]) => (draw -= weight) < 0) ?? MUTATIONS[0]!;
      entry[2](random, next);
      edits.push(entry[0]);
    }
    if (problems(next).length === 0 && JSON.stringify(inventoryOf(next)) !== JSON.stringify(inventoryOf(model))) return { model: next, edits };
  }
}

const serverOf = (model: ClusterModel, member: Member): Server => ({ address: RIPS[member.host], forwarding: model.forwarding[member.host], weight: member.weight });

const serviceSpec = (model: ClusterModel, service: ServiceModel): Service => {
  const extra = { scheduler: service.scheduler, persistence: service.persistence === undefined ? undefined : { ...service.persistence } };
  const servers = service.members.map((member) => serverOf(model, member));
  if (service.kind === 'mark') return marked(service.mark, servers, extra);
  return (service.protocol === 'udp' ? udp : tcp)(service.vip, service.port, servers, extra);
};

const markRules = (services: readonly ServiceModel[]): MarkRule[] =>
  services.flatMap((service) => (service.kind === 'mark' ? service.covers.map((cover) => ({ address: cover.vip, ports: cover.ports, mark: service.mark })) : []));

/** The VIPs a real server carries: those of every service that lists it, in VIPS order. */
export function realServerVips(model: ClusterModel, host: RealServerHost): string[] {
  const vips = new Set(allServices(model).flatMap(({ service }) => (service.members.some((member) => member.host === host) ? vipsOf(service) : [])));
  return VIPS.filter((vip) => vips.has(vip));
}

const deviceOf = (method: Method): 'lo' | 'tunl0' => (method === 'dr' ? 'lo' : 'tunl0');

/** The inventory: every host of the walk, those without a role with no task. */
export function inventoryOf(model: ClusterModel): Inventory {
  const inventory: Inventory = {};
  for (const host of DIRECTORS) {
    const services = model.directors[host];
    inventory[host] = services === undefined ? [] : director(services.map((service) => serviceSpec(model, service)), markRules(services));
  }
  for (const host of REAL_SERVERS) inventory[host] = realServer(...realServerVips(model, host).map((vip): [string, 'lo' | 'tunl0'] => [vip, deviceOf(model.forwarding[host])]));
  return inventory;
}

const V = (address: string): string => `V${VIPS.indexOf(address as (typeof VIPS)[number]) + 1}`;
const RS = (host: RealServerHost): string => `RS${REAL_SERVERS.indexOf(host) + 1}`;

function serviceCode(model: ClusterModel, service: ServiceModel): string {
  const servers = service.members.map((member) => {
    const method = model.forwarding[member.host] === 'tun' ? ", forwarding: 'tun'" : '';
    const weight = member.weight === 1 ? '' : `, weight: ${member.weight}`;
    return `{ address: ${RS(member.host)}${method}${weight} }`;
  });
  const persistence = service.persistence === undefined ? 'undefined' : `{ timeout: ${service.persistence.timeout}${service.persistence.netmask === undefined ? '' : `, netmask: '${service.persistence.netmask}'`} }`;
  const extra = [
    ...(service.scheduler === 'wrr' ? [] : [`scheduler: '${service.scheduler}'`]),
    // A port service is not persistent unless it says so; a fwmark service (marked) is, for 300 s.
    ...(persistence === (service.kind === 'port' ? 'undefined' : '{ timeout: 300 }') ? [] : [`persistence: ${persistence}`]),
  ];
  const tail = extra.length > 0 ? `, { ${extra.join(', ')} }` : '';
  return service.kind === 'port' ? `${service.protocol}(${V(service.vip)}, ${service.port}, [${servers.join(', ')}]${tail})` : `marked(${service.mark}, [${servers.join(', ')}]${tail})`;
}

/**
 * The inventory as a hand-written case writes it (V1..V4 = 198.51.100.50-53, RS1..RS4 =
 * 192.0.2.11-14), one host a line, so a failure can be pasted into cross-host-plan.test.ts.
 */
export function inventoryCode(model: ClusterModel): string {
  const hosts = DIRECTORS.map((host) => {
    const services = model.directors[host];
    if (services === undefined) return `${host}: []`;
    const marks = markRules(services).map((rule) => `{ address: ${V(rule.address)}, ports: [${rule.ports.join(', ')}], mark: ${rule.mark} }`);
    return `${host}: director([${services.map((service) => serviceCode(model, service)).join(', ')}]${marks.length > 0 ? `, [${marks.join(', ')}]` : ''})`;
  });
  const realServers = REAL_SERVERS.map((host) => {
    const vips = realServerVips(model, host).map((vip) => `[${V(vip)}, '${deviceOf(model.forwarding[host])}']`);
    return `${host}: ${vips.length > 0 ? `realServer(${vips.join(', ')})` : '[]'}`;
  });
  return `{\n  ${[...hosts, ...realServers].join(',\n  ')},\n}`;
}
