import { resolveHa } from '../config/ha-model.js';
import { resolveSessions } from '../config/sessions-model.js';
import type { LoadedInventory } from '../config/inventory.js';
import type { ResolvedService } from '../config/lvs-model.js';
import { own } from '../config/own.js';
import { declaredServiceKey } from '../status/model.js';
import type { VrrpState } from '../status/vrrp.js';
import { sessionStoreWords } from './style.js';

// The cluster as a picture sees it, from the inventory alone: the client side, routers,
// directors, each VIP with its virtual services, and the real servers they send to. Pure.

export interface TopologyHost {
  readonly name: string;
  readonly address: string;
}

export interface TopologyServiceLink {
  /** Index into Topology.realServers. */
  readonly realServer: number;
  readonly port: number;
  readonly weight: number;
}

export interface TopologyService {
  readonly name: string;
  /** ipvsadm's name, e.g. `TCP 198.51.100.50:80`, `FWM 1`. */
  readonly key: string;
  readonly protocol: ResolvedService['protocol'];
  readonly port: number;
  readonly fwmark?: number;
  readonly ports?: readonly number[];
  readonly scheduler: string;
  readonly forwarding: ResolvedService['forwarding'];
  readonly persistence?: ResolvedService['persistence'];
  readonly directors: readonly string[];
  readonly links: readonly TopologyServiceLink[];
}

export interface TopologyVrrpDirector {
  readonly host: string;
  readonly priority: number;
  /** The state the inventory starts it in: the master holds the VIPs while it runs. */
  readonly master: boolean;
  readonly nopreempt: boolean;
  /** status --graph: its part as read now (holds the VIPs: master), or `unread` where status could not read it. */
  readonly live?: VrrpState | 'unread';
}

export interface TopologyVip {
  /** The VIP's name in lvs.vips; absent for a VIP given as an address, or for marks without one. */
  readonly name?: string;
  /** Absent for firewall-mark services that name no VIP. */
  readonly address?: string;
  readonly services: readonly TopologyService[];
  /** Under lvs.ha: the VRRP instance that moves this VIP between its directors. */
  readonly vrrp?: { readonly id: number; readonly directors: readonly TopologyVrrpDirector[] };
}

export interface Topology {
  readonly name?: string;
  /** Hosts of group `clients`; empty means "the clients" in general. */
  readonly clients: readonly TopologyHost[];
  readonly routers: readonly TopologyHost[];
  /** The services' directors, then those of the group directors that hold no VIP (`idle`). */
  readonly directors: ReadonlyArray<TopologyHost & { readonly idle?: true }>;
  readonly vips: readonly TopologyVip[];
  /** One per real server address, named by its inventory host where it has one. */
  readonly realServers: ReadonlyArray<TopologyHost & { readonly host?: string }>;
  /** lvs.sessions: the hosts that run memcached for the real servers' sessions. */
  readonly sessions?: { readonly port: number; readonly stores: readonly TopologyHost[] };
}

export function topology(inventory: LoadedInventory): Topology {
  const hosts = inventory.data.hosts;
  const member = (group: string): TopologyHost[] => (inventory.groups.get(group) ?? []).map((name) => ({ name, address: own(hosts, name)?.address ?? '' }));
  const directorNames = [...new Set(inventory.services.flatMap((service) => service.directors))];
  const realServers: Array<TopologyHost & { host?: string }> = [];
  const realServerIndex = (server: ResolvedService['realServers'][number]): number => {
    const found = realServers.findIndex((entry) => entry.address === server.address);
    if (found >= 0) return found;
    realServers.push({ name: server.host ?? server.address, address: server.address, ...(server.host !== undefined ? { host: server.host } : {}) });
    return realServers.length - 1;
  };
  const vips = new Map<string, { name?: string; address?: string; services: TopologyService[] }>();
  for (const service of inventory.services) {
    const vipKey = service.address ?? `fwmark ${service.fwmark}`;
    const vip = vips.get(vipKey) ?? { ...(service.vipName !== undefined ? { name: service.vipName } : {}), ...(service.address !== undefined ? { address: service.address } : {}), services: [] };
    vips.set(vipKey, vip);
    vip.services.push({
      name: service.name,
      key: declaredServiceKey(service),
      protocol: service.protocol,
      port: service.port,
      ...(service.fwmark !== undefined ? { fwmark: service.fwmark } : {}),
      ...(service.ports !== undefined ? { ports: service.ports } : {}),
      scheduler: service.scheduler,
      forwarding: service.forwarding,
      ...(service.persistence !== undefined ? { persistence: service.persistence } : {}),
      directors: service.directors,
      links: service.realServers.map((server) => ({ realServer: realServerIndex(server), port: server.port, weight: server.weight })),
    });
  }
  return {
    ...(inventory.data.name !== undefined ? { name: inventory.data.name } : {}),
    clients: member('clients'),
    routers: member('routers'),
    // A director of the group that no service names (a spare, or one whose services moved) is
    // still a host of the cluster: drawn, holding nothing.
    directors: [
      ...directorNames.map((name) => ({ name, address: own(hosts, name)?.address ?? '' })),
      ...member('directors')
        .filter((host) => !directorNames.includes(host.name))
        .map((host) => ({ ...host, idle: true as const })),
    ],
    vips: withVrrp(inventory, [...vips.values()]),
    realServers,
    ...sessionStores(inventory),
  };
}

function withVrrp(inventory: LoadedInventory, vips: TopologyVip[]): TopologyVip[] {
  const groups = resolveHa(inventory)?.groups ?? [];
  return vips.map((vip) => {
    const group = groups.find((candidate) => candidate.vips.some((entry) => entry.address === vip.address));
    if (!group) return vip;
    const directors = group.directors.map(({ host, priority, state, nopreempt }) => ({ host, priority, master: state === 'MASTER', nopreempt }));
    return { ...vip, vrrp: { id: group.virtualRouterId, directors } };
  });
}

function sessionStores(inventory: LoadedInventory): Pick<Topology, 'sessions'> {
  const sessions = resolveSessions(inventory.data, inventory.services);
  return sessions ? { sessions: { port: sessions.port, stores: sessions.stores.map(({ host, address }) => ({ name: host, address })) } } : {};
}

/**
 * How a picture shows lvs.sessions: the line a store's card carries, whether a real server runs a
 * store (its card carries that line), and the stores that serve no VIP (cards of their own).
 */
export function sessionStoreCards(topology: Topology): { line: string[]; runsStore: (address: string) => boolean; dedicated: TopologyHost[] } {
  const stores = topology.sessions?.stores ?? [];
  const storeAddresses = new Set(stores.map((store) => store.address));
  const serverAddresses = new Set(topology.realServers.map((server) => server.address));
  return {
    line: topology.sessions ? [sessionStoreWords(topology.sessions.port)] : [],
    runsStore: (address) => storeAddresses.has(address),
    dedicated: stores.filter((store) => !serverAddresses.has(store.address)),
  };
}
