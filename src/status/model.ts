import type { ResolvedService } from '../config/lvs-model.js';
import { hostPort } from '../resources/ipvs/model.js';
import type { DirectorRead, HeldAddress } from './director-read.js';
import { liveServiceKey, type LiveForwarding, type LiveService, type Rate } from './live-table.js';
import type { VrrpStatus } from './vrrp.js';

// The status of one director: the inventory's services for it beside the live table, real server
// by real server, and the VIPs it holds. Pure: built from the inventory model and one read.

/**
 * active: in the table with a weight above 0. quiesced: in the table with weight 0 (established
 * connections continue, new ones go elsewhere). absent: declared but not in the table.
 * undeclared: in the table but not in the inventory.
 */
export type ServerState = 'active' | 'quiesced' | 'absent' | 'undeclared';

export interface ServerStatus {
  readonly endpoint: string;
  readonly host?: string;
  readonly state: ServerState;
  /** Why it is out of rotation, for quiesced and absent servers. */
  readonly why?: string;
  readonly declaredWeight?: number;
  readonly weight?: number;
  readonly forwarding?: LiveForwarding;
  readonly activeConns?: number;
  readonly inactiveConns?: number;
  readonly rate?: Rate;
}

export interface ServiceStatus {
  /** ipvsadm's name for it, e.g. `TCP 198.51.100.50:80` or `FWM 1`. */
  readonly key: string;
  /** The inventory's name for it; absent for a service only the live table has. */
  readonly name?: string;
  readonly state: 'live' | 'absent' | 'undeclared';
  readonly scheduler?: string;
  readonly forwarding?: string;
  /** Declared persistence; a service only the live table has shows `{}` when it is persistent. */
  readonly persistence?: { readonly timeout?: number; readonly netmask?: string };
  readonly rate?: Rate;
  readonly servers: readonly ServerStatus[];
}

export interface VipStatus {
  readonly name?: string;
  readonly address: string;
  readonly held: boolean;
  /** Device and label it is held on. */
  readonly on?: string;
}

export interface DirectorStatus {
  readonly table: 'ok' | 'unreadable';
  readonly tableError?: string;
  readonly ratesError?: string;
  readonly vips: readonly VipStatus[];
  /** Under lvs.ha: each VRRP instance the director takes part in (see vrrp.ts). */
  readonly vrrp?: readonly VrrpStatus[];
  readonly services: readonly ServiceStatus[];
}

/** ipvsadm's key for a declared service. */
export function declaredServiceKey(service: ResolvedService): string {
  return liveServiceKey({ protocol: service.protocol, address: service.address ?? '', port: service.port, fwmark: service.fwmark ?? 0 });
}

function declaredServer(server: ResolvedService['realServers'][number]): Pick<ServerStatus, 'endpoint' | 'host' | 'declaredWeight'> {
  return { endpoint: hostPort(server.address, server.port), ...(server.host !== undefined ? { host: server.host } : {}), declaredWeight: server.weight };
}

function serverStatuses(declaredServers: ResolvedService['realServers'], live: LiveService | undefined, hostsByAddress: ReadonlyMap<string, string>): ServerStatus[] {
  const liveServers = new Map((live?.realServers ?? []).map((server) => [hostPort(server.address, server.port), server]));
  const declared = declaredServers.map((server): ServerStatus => {
    const base = declaredServer(server);
    const found = liveServers.get(base.endpoint);
    liveServers.delete(base.endpoint);
    if (!found) {
      const why = live ? 'declared, but not in the live table' : 'its service is not in the live table';
      return { ...base, state: 'absent', why };
    }
    const counters = { weight: found.weight, forwarding: found.forwarding, activeConns: found.activeConns, inactiveConns: found.inactiveConns, ...(found.rate ? { rate: found.rate } : {}) };
    if (found.weight > 0) return { ...base, state: 'active', ...counters };
    const why = server.weight === 0 ? 'weight 0 in the inventory: quiesced' : `weight 0 live, ${server.weight} in the inventory: quiesced by hand or drift`;
    return { ...base, state: 'quiesced', why, ...counters };
  });
  const undeclared = [...liveServers.values()].map((found): ServerStatus => {
    const host = hostsByAddress.get(found.address);
    return {
      endpoint: hostPort(found.address, found.port),
      ...(host !== undefined ? { host } : {}),
      state: 'undeclared',
      why: 'in the live table, not in the inventory',
      weight: found.weight,
      forwarding: found.forwarding,
      activeConns: found.activeConns,
      inactiveConns: found.inactiveConns,
      ...(found.rate ? { rate: found.rate } : {}),
    };
  });
  return [...declared, ...undeclared];
}

function vipStatuses(services: readonly ResolvedService[], addresses: readonly HeldAddress[]): VipStatus[] {
  const vips = new Map<string, string | undefined>();
  for (const service of services) if (service.address !== undefined && !vips.has(service.address)) vips.set(service.address, service.vipName);
  return [...vips.entries()].map(([address, name]) => {
    const held = addresses.find((entry) => entry.address === address);
    return { ...(name !== undefined ? { name } : {}), address, held: held !== undefined, ...(held ? { on: held.label ?? held.device } : {}) };
  });
}

/**
 * `services` are the inventory's services this host directs; `hostsByAddress` names real servers
 * the live table holds but the inventory does not list for that service.
 */
export function directorStatus(services: readonly ResolvedService[], read: DirectorRead, hostsByAddress: ReadonlyMap<string, string>): DirectorStatus {
  const live = new Map((read.table ?? []).map((service) => [liveServiceKey(service), service]));
  const statuses = services.map((service): ServiceStatus => {
    const key = declaredServiceKey(service);
    const found = live.get(key);
    live.delete(key);
    return {
      key,
      name: service.name,
      state: found ? 'live' : 'absent',
      scheduler: found?.scheduler ?? service.scheduler,
      forwarding: service.forwarding,
      ...(service.persistence ? { persistence: service.persistence } : {}),
      ...(found?.rate ? { rate: found.rate } : {}),
      servers: read.table === null ? service.realServers.map((server) => ({ ...declaredServer(server), state: 'absent' as const, why: 'the live table could not be read' })) : serverStatuses(service.realServers, found, hostsByAddress),
    };
  });
  const undeclared = [...live.values()].map((found): ServiceStatus => ({
    key: liveServiceKey(found),
    state: 'undeclared',
    scheduler: found.scheduler,
    ...(found.persistence ? { persistence: found.persistence.netmask === '255.255.255.255' ? {} : { netmask: found.persistence.netmask } } : {}),
    ...(found.rate ? { rate: found.rate } : {}),
    servers: serverStatuses([], found, hostsByAddress),
  }));
  return {
    table: read.table === null ? 'unreadable' : 'ok',
    ...(read.tableError !== undefined ? { tableError: read.tableError } : {}),
    ...(read.ratesError !== undefined ? { ratesError: read.ratesError } : {}),
    vips: vipStatuses(services, read.addresses),
    services: [...statuses, ...undeclared],
  };
}
