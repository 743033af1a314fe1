import { sortedIpv4 } from '../net/ipv4.js';
import { groupsOf, type LoadedInventory } from './inventory.js';
import { addressOwners } from './address-owners.js';
import { directorAddress, natGateway } from './dip.js';
import { directorKeepalived } from './keepalived-vars.js';
import type { ResolvedRealServer, ResolvedService } from './lvs-model.js';
import { own } from './own.js';
import { resolveSessions, type SessionsModel } from './sessions-model.js';
import { connectPortOf } from './ssh-port.js';
import { nearestNames } from './suggest.js';
import { catchAllTestPort, realServerTestPort } from './test-port.js';
import { vipLabel } from './vip-label.js';
import type { PathSegment } from './yaml-source.js';

// The variables a role sees on one host: cluster, then group, then host variables (later wins),
// then what the LVS model implies for this host. The derived names are documented in the README;
// roles loop over them instead of re-deriving cluster topology in templates.

export type Vars = Record<string, unknown>;

/** One level of inventory variables that applies to a host, with where it sits in the inventory. */
export interface VarLayer {
  readonly path: readonly PathSegment[];
  readonly vars: Vars;
}

/** The inventory's variable levels for a host, lowest precedence first: cluster, groups, host. */
export function varLayers(inventory: LoadedInventory, host: string): VarLayer[] {
  const entry = own(inventory.data.hosts, host);
  if (!entry) throw new Error(`unknown host ${host}`);
  return [
    { path: ['vars'], vars: inventory.data.vars },
    ...groupsOf(inventory, host).map((group) => ({ path: ['groups', group, 'vars'], vars: own(inventory.data.groups, group)?.vars ?? {} })),
    { path: ['hosts', host, 'vars'], vars: entry.vars },
  ];
}

/** Where the value a host sees for `name` was set (the path of its inventory node), if anywhere. */
export function varOrigin(layers: readonly VarLayer[], name: string): readonly PathSegment[] | undefined {
  const layer = [...layers].reverse().find((candidate) => Object.hasOwn(candidate.vars, name));
  return layer ? [...layer.path, name] : undefined;
}

/**
 * A variable the host sets under a name close to `name` (lan_interfce for lan_interface), and
 * where: a missing variable's most likely misspelling, the line to mend.
 */
export function nearVariable(layers: readonly VarLayer[], name: string): { readonly name: string; readonly at: readonly PathSegment[] } | undefined {
  const near = nearestNames(name, layers.flatMap((layer) => Object.keys(layer.vars)), 1)[0];
  const at = near === undefined ? undefined : varOrigin(layers, near);
  return near === undefined || at === undefined ? undefined : { name: near, at };
}

export function hostVars(inventory: LoadedInventory, host: string): Vars {
  const vars: Vars = {};
  for (const layer of varLayers(inventory, host)) Object.assign(vars, layer.vars);
  // Assigned into the object just made: a spread would copy its many keys once more, per host.
  return Object.assign(vars, derivedVars(inventory, host, groupsOf(inventory, host), vars));
}

/**
 * What every host of an inventory shares, computed once per inventory rather than once per host:
 * the VIP lists (one object for all, so a template engine's copy of it is made once too) and, per
 * host, the services it serves as a real server.
 */
interface SharedVars {
  readonly vips: ReadonlyArray<Record<string, unknown>>;
  readonly allVipAddresses: ReadonlyArray<{ address: string }>;
  /** Per real-server host, each service it serves with its own entries in that service's list. */
  readonly servedBy: ReadonlyMap<string, readonly ServedService[]>;
  readonly sessions: SessionsModel | undefined;
}

interface ServedService {
  readonly service: ResolvedService;
  readonly servers: readonly ResolvedRealServer[];
}

const shared = new WeakMap<LoadedInventory, SharedVars>();

function sharedVars(inventory: LoadedInventory): SharedVars {
  let found = shared.get(inventory);
  if (!found) {
    // Grouped once here: a host looking for itself in every service's list of real servers
    // would make the inventory's compile quadratic in its hosts (a minute at 20,000).
    const servedBy = new Map<string, ServedService[]>();
    // A sorry server at an inventory host's address is set up as a real server of its service at
    // weight 0 (keepalived sends to it by the service's method when every real server is down): the
    // VIP on lo for DR, on tunl0 for TUN, the route back through the director for NAT.
    const sorryOwners = addressOwners(inventory, new Set(inventory.services.flatMap((service) => (service.sorryServer ? [service.sorryServer.address] : []))));
    for (const service of inventory.services) {
      const byHost = new Map<string, ResolvedRealServer[]>();
      for (const server of service.realServers) {
        if (server.host) byHost.set(server.host, [...(byHost.get(server.host) ?? []), server]);
      }
      const sorry = service.sorryServer && sorryOwners.get(service.sorryServer.address)?.find((owner) => owner.as === 'address')?.host;
      // One of the service's own directors as its sorry server is IPVS's localnode: it serves the requests itself.
      if (sorry !== undefined && service.sorryServer && !byHost.has(sorry) && !service.directors.includes(sorry)) byHost.set(sorry, [{ host: sorry, ...service.sorryServer, weight: 0 }]);
      for (const [host, servers] of byHost) {
        const list = servedBy.get(host);
        if (list) list.push({ service, servers });
        else servedBy.set(host, [{ service, servers }]);
      }
    }
    found = {
      vips: Object.entries(inventory.data.lvs.vips).map(([name, vip]) => ({ name, ...vip })),
      allVipAddresses: unique(inventory.services.flatMap((service) => (service.address ? [service.address] : []))).map((address) => ({ address })),
      servedBy,
      sessions: resolveSessions(inventory.data, inventory.services),
    };
    shared.set(inventory, found);
  }
  return found;
}

/** The port memcached listens on where `host` is a session store (lvs.sessions); undefined elsewhere. */
export function sessionStorePortOf(inventory: LoadedInventory, host: string): number | undefined {
  const sessions = sharedVars(inventory).sessions;
  return sessions?.stores.some((store) => store.host === host) ? sessions.port : undefined;
}

function derivedVars(inventory: LoadedInventory, host: string, groups: string[], vars: Vars): Vars {
  const services = inventory.services;
  const common = sharedVars(inventory);
  const servedEntries = common.servedBy.get(host) ?? [];
  const servedHere = servedEntries.map(({ service }) => service);
  const directed = services.filter((service) => service.directors.includes(host));
  // Real servers' labels follow the seeds: lo:0, lo:1 ...; a director's VIP is labelled by its
  // address (vip-label.ts), as keepalived's copy of it is, so a hand-over changes no label.
  // `rip` is this host's real server address in those services (the source a TUN real server's
  // ARP replies must carry instead of the VIP).
  const defaultVipDevice = typeof vars.vip_interface === 'string' ? vars.vip_interface : 'eth0';
  // `devices`: every device this host's roles put the VIP on (lo for DR, tunl0 for TUN, the VIP
  // interface where it also directs the VIP); a copy anywhere else answers ARP for it (stray_address).
  const vipDevices = (address: string): string[] =>
    unique([
      ...servedHere.filter((service) => service.address === address && service.forwarding !== 'nat').map((service) => (service.forwarding === 'tun' ? 'tunl0' : 'lo')),
      ...directed.filter((service) => service.address === address).map((service) => service.vipInterface ?? defaultVipDevice),
    ]);
  const served = (mode: ResolvedService['forwarding'], device: string, first: number): Array<{ address: string; label: string; rip: string; devices: string[] }> => {
    const mine = servedEntries.filter(({ service }) => service.forwarding === mode && service.address !== undefined);
    return unique(mine.map(({ service }) => service.address as string)).map((address, index) => ({
      address,
      label: `${device}:${index + first}`,
      rip: mine.find(({ service }) => service.address === address)?.servers[0]?.address ?? '',
      devices: vipDevices(address),
    }));
  };
  // keepalived, where it holds this director, is the one writer of its IPVS table and, with
  // lvs.ha, of its VIPs (VRRP adds them on the master only): the ipvs and address tasks step back.
  const keepalived = directorKeepalived(inventory, host, defaultVipDevice);
  const byVrrp = keepalived !== undefined && inventory.data.lvs.ha !== undefined;
  const natDirectors = servedHere.filter((service) => service.forwarding === 'nat').flatMap((service) => service.directors);

  return {
    inventory_hostname: host,
    host_address: own(inventory.data.hosts, host)?.address,
    group_names: groups,
    vips: common.vips,
    all_vip_addresses: common.allVipAddresses,
    director_services: keepalived ? [] : directed.map(ipvsService),
    director_vips: unique((byVrrp ? [] : directed).flatMap((service) => (service.address ? [service.address] : []))).map((address) => {
      const device = directed.find((service) => service.address === address)?.vipInterface ?? defaultVipDevice;
      return { address, device, label: vipLabel(device, address) };
    }),
    director_kernel_modules: unique(['ip_vs', ...directed.map((service) => `ip_vs_${service.scheduler}`)]).map((name) => ({ name })),
    director_needs_forwarding: directed.some((service) => service.forwarding === 'nat'),
    director_nat_interfaces: natInterfaces(inventory, directed, defaultVipDevice),
    // A persistent service keeps sending a client to its quiesced server while the client's
    // template lives, so a drain would never end: the director then expires such templates.
    director_persistent: directed.some((service) => service.persistence !== undefined),
    // A fwmark service with a VIP: packets to the VIP (to its `ports`, or all of them) get the
    // mark before IPVS sees them.
    director_fwmarks: directed.flatMap((service) =>
      service.protocol === 'fwmark' && service.address !== undefined && service.fwmark !== undefined
        ? [{ address: service.address, mark: service.fwmark, ports: [...(service.ports ?? [])] }]
        : [],
    ),
    director_ipvsadm: keepalived === undefined,
    director_keepalived: keepalived !== undefined,
    director_keepalived_config: { router_id: host, advert_interval: 1, garp: {}, instances: [], sync_groups: [], virtual_servers: [], ...keepalived },
    dr_vips: served('dr', 'lo', 0),
    tun_vips: served('tun', 'tunl0', 0),
    nat_vips: served('nat', 'lo', 0),
    // The addresses its NAT services list it by (its RIPs: host_address or another of its
    // addresses), each the source of replies that must pass the director.
    nat_reply_sources: unique(servedEntries.filter(({ service }) => service.forwarding === 'nat').flatMap(({ servers }) => servers.map((server) => server.address))).map((address) => ({ address })),
    // A server that also answers DR or TUN keeps its own default: those replies leave from the
    // VIP and the director would drop them; its NAT replies have their source routes.
    nat_default_route: natDirectors.length > 0 && !servedHere.some((service) => service.forwarding === 'dr' || service.forwarding === 'tun'),
    real_server_pool: servedEntries.length === 0 ? 'none' : servedEntries.some(({ servers }) => servers.some((server) => server.weight > 0)) ? 'weighted' : 'quiesced',
    web_extra_ports: webExtraPorts(servedEntries, [vars.web_port, connectPortOf(inventory, host)]),
    nat_gateway: natDirectors.length > 0 ? natGateway(inventory, natDirectors[0] as string) : undefined,
    ...sessionVars(common.sessions, host, servedHere.length > 0, (store) => directorAddress(inventory, store)),
  };
}

/**
 * The ports directors send this real server requests on (TCP: the test page is HTTP), where each
 * service is tested (test-port.ts), less the webpage role's main web server's: its web_port (the
 * inventory's) and its default 80. The role serves the page on these too, so a service on 8080 or
 * a NAT service mapped to 8000 is answered by the test page. 80 stays out even where web_port
 * moved off it: a second server there would start (early in the run) before the main one's
 * restart (at the end) had freed the port. `held` are ports the host's own servers hold (web_port,
 * and the port lvsprov reaches sshd on: a service there balances SSH, which sshd answers, and a
 * web server could not bind beside it).
 */
function webExtraPorts(served: readonly ServedService[], held: readonly unknown[]): Array<{ port: number }> {
  const main = new Set([catchAllTestPort, ...held]);
  const ports = served.flatMap(({ service, servers }) => (service.protocol === 'udp' ? [] : servers.map((server) => realServerTestPort(service, server.port))));
  return unique(ports.filter((port) => !main.has(port)))
    .sort((a, b) => a - b)
    .map((port) => ({ port }));
}

/**
 * A store's memcached: its settings, the other stores (it copies their sessions as it starts, so
 * they must let it in, as it lets them), and whom it lets in: the real servers and those stores.
 */
function storeConfig(sessions: SessionsModel, address: string, dipOf: (host: string) => string | undefined): Vars {
  const others = sessions.stores.filter((store) => store.address !== address);
  const peers = others.map((store) => store.address);
  // A peer's copier connects from the address its route gives it: a NAT director's, on the
  // inside network, is its dip, not its inventory address.
  const sources = others.flatMap((store) => [store.address, dipOf(store.host) ?? store.address]);
  return {
    address,
    port: sessions.port,
    memory_mb: sessions.memoryMb,
    max_connections: sessions.maxConnections,
    clients: sortedIpv4([...new Set([...sessions.clients, ...sources])]),
    // `-` for none: a boot hook's command holds no empty word.
    peers: peers.length > 0 ? peers.join(',') : '-',
  };
}

/** Where sessions live: memcached's settings on a store, the stores on a real server. */
function sessionVars(sessions: SessionsModel | undefined, host: string, realServer: boolean, dipOf: (host: string) => string | undefined): Vars {
  const store = sessions?.stores.find((candidate) => candidate.host === host);
  const servers = sessions !== undefined && realServer ? sessions.stores.map(({ address }) => ({ address, port: sessions.port })) : [];
  return {
    session_store: store !== undefined,
    session_store_config:
      store !== undefined && sessions !== undefined
        ? storeConfig(sessions, store.address, dipOf)
        : undefined,
    session_servers: servers,
    session_save_path: servers.map(({ address, port }) => `${address}:${port}`).join(','),
    session_replicas: servers.length > 0 && sessions !== undefined ? sessions.replicas : 0,
  };
}

/** What a director's dip is read from: the inventory's variables and its groups. */

/**
 * The interfaces a NAT director takes its real servers' replies in on and may send them out of
 * again (its NAT VIPs' interfaces, and lvs.ha's floating gateway's): where the director is
 * one-armed, the kernel would answer each such reply with an ICMP redirect naming the router, and
 * a real server that follows it sends the next replies past the director, un-NATed. `key` is the
 * name as a sysctl key's component (a `.` in it written `/`, as sysctl(8) reads `eth0/100`).
 */
function natInterfaces(inventory: LoadedInventory, directed: readonly ResolvedService[], defaultVipDevice: string): Array<{ name: string; key: string }> {
  const nat = directed.filter((service) => service.forwarding === 'nat');
  if (nat.length === 0) return [];
  const gateway = inventory.data.lvs.ha?.gateway?.interface;
  const names = unique([...nat.map((service) => service.vipInterface ?? defaultVipDevice), ...(gateway !== undefined ? [gateway] : [])]);
  return names.map((name) => ({ name, key: name.replaceAll('.', '/') }));
}

/** The service in the shape of the ipvs resource's spec. */
function ipvsService(service: ResolvedService): Record<string, unknown> {
  return {
    protocol: service.protocol,
    // A fwmark service's VIP is for the marks, the director's and real servers' addresses and the
    // router: IPVS itself selects its packets by mark alone and takes no address.
    ...(service.address !== undefined && service.protocol !== 'fwmark' ? { address: service.address } : {}),
    port: service.port,
    ...(service.fwmark !== undefined ? { fwmark: service.fwmark } : {}),
    scheduler: service.scheduler,
    ...(service.persistence ? { persistence: { ...service.persistence } } : {}),
    real_servers: service.realServers.map((server) => ({
      address: server.address,
      port: server.port,
      forwarding: service.forwarding,
      weight: server.weight,
    })),
  };
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
