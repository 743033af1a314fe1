import type { ConfigProblem } from '../errors.js';
import { isIpv4, isLoopback, sortedIpv4 } from '../net/ipv4.js';
import type { Inventory } from './inventory-schema.js';
import type { ResolvedService } from './lvs-model.js';
import { own } from './own.js';
import { connectPortOf, sshPortOf } from './ssh-port.js';
import type { LoadedInventory } from './inventory.js';
import { suggestion } from './suggest.js';
import type { PathSegment } from './yaml-source.js';

// `lvs.sessions` resolved: the memcached hosts with the address each binds to, and the addresses
// allowed to connect (every real server of the services: memcached has no authentication, so
// nothing else may reach it). host-vars.ts hands this to the roles.

export interface SessionStore {
  readonly host: string;
  readonly address: string;
}

export interface SessionsModel {
  readonly stores: readonly SessionStore[];
  /** Real server addresses, sorted, each once: the only sources memcached accepts. */
  readonly clients: readonly string[];
  readonly port: number;
  readonly memoryMb: number;
  readonly maxConnections: number;
  /** php-memcached's memcached.sess_number_of_replicas. */
  readonly replicas: number;
}

type Report = (path: PathSegment[], message: string) => void;

const path = (...rest: PathSegment[]): PathSegment[] => ['lvs', 'sessions', ...rest];

/** The model, reporting what makes it impossible; undefined without `lvs.sessions`. */
export function resolveSessions(data: Inventory, services: readonly ResolvedService[], report: Report = () => undefined): SessionsModel | undefined {
  const settings = data.lvs.sessions;
  if (settings === undefined) return undefined;
  const realServerHosts = unique(services.flatMap((service) => service.realServers.flatMap((server) => (server.host !== undefined ? [server.host] : []))));
  // A real server connects from the address its route to the store gives it: its real-server
  // address on the service's LAN, or its inventory address when the stores are reached on another
  // network (a management LAN): both are let in.
  const hostAddresses = realServerHosts.flatMap((host) => {
    const address = own(data.hosts, host)?.address;
    return address !== undefined && isIpv4(address) ? [address] : [];
  });
  // A sorry server serves the service's pages while every real server is down: the same sessions.
  const sorryServers = services.flatMap((service) => (service.sorryServer ? [service.sorryServer.address] : []));
  const clients = sortedIpv4([...services.flatMap((service) => service.realServers.map((server) => server.address)), ...hostAddresses, ...sorryServers]);
  if (clients.length === 0) report(path(), 'sessions are shared by real servers, and no service lists one');

  const named = settings.hosts ?? realServerHosts;
  const stores: SessionStore[] = [];
  const seen = new Set<string>();
  named.forEach((host, index) => {
    const at = settings.hosts !== undefined ? path('hosts', index) : path();
    const entry = own(data.hosts, host);
    if (!entry) return report(at, `unknown host ${host}${suggestion(host, Object.keys(data.hosts))}`);
    if (seen.has(host)) return report(at, `${host} is listed twice`);
    seen.add(host);
    // memcached binds to it and the real servers connect to it: a name could resolve elsewhere.
    if (!isIpv4(entry.address)) return report(at, `session store ${host}'s address ${entry.address} is not an IPv4 address; memcached binds to it and the real servers connect to it`);
    if (isLoopback(entry.address))
      return report(['hosts', host, 'address'], `session store ${host}'s address ${entry.address} is a loopback address: memcached would bind to it, and every other real server would look for the sessions on itself; give the address the real servers reach ${host} at`);
    const twin = stores.find((store) => store.address === entry.address);
    if (twin) return report(['hosts', host, 'address'], `session stores ${twin.host} and ${host} both have address ${entry.address}: the real servers would keep each session twice on one machine, and the stores would not copy from each other; give each the address the real servers reach it at`);
    stores.push({ host, address: entry.address });
  });

  const clash = portClash(services, stores, settings.port, (host) => sshPortOf(data, host));
  if (clash !== undefined) report(path('port'), clash);

  // Every session on every store by default. php-memcached (libmemcached 1.1) places a session's
  // copies on the stores after its first in the server list, but a request that finds a store down
  // drops it from its hash ring and asks the next store on the ring, which with three stores or
  // more need not hold a copy: with fewer copies, some sessions read as new while a store is down.
  const replicas = settings.replicas ?? Math.max(0, stores.length - 1);
  if (replicas >= Math.max(stores.length, 1) && stores.length === named.length) {
    report(path('replicas'), `${replicas} replica${replicas === 1 ? '' : 's'} need ${replicas + 1} session stores or more, and there ${stores.length === 1 ? 'is' : 'are'} ${stores.length}`);
  }
  return { stores, clients, port: settings.port, memoryMb: settings.memory_mb, maxConnections: settings.max_connections, replicas };
}

/**
 * Why memcached's port cannot be `port` on a store, or undefined. The allowlist that keeps memcached
 * to the real servers drops every other source's TCP packets to that port on the store, whatever
 * their destination: on the port lvsprov logs in on it cuts the apply's own connection (and every
 * operator's SSH), on a port the store serves a virtual service on it drops the clients' requests.
 */
function portClash(services: readonly ResolvedService[], stores: readonly SessionStore[], port: number, sshPort: (host: string) => number): string | undefined {
  for (const store of stores) {
    const clash = sshPortClash(store.host, port, sshPort(store.host));
    if (clash !== undefined) return clash;
    const choose = "choose another port (memcached's own is 11211)";
    for (const service of services) {
      if (service.protocol === 'udp') continue;
      // A service on every port of its VIP (port 0, or fwmark without ports) is not refused: the
      // allowlist then drops its clients on memcached's port alone, which a catch-all rarely serves.
      const vipPorts = service.protocol === 'fwmark' ? (service.ports ?? []) : [service.port];
      // The allowlist's input chain runs before IPVS takes the packet on a director.
      if (service.directors.includes(store.host) && vipPorts.includes(port))
        return `port ${port} is a port of service ${service.name}, which session store ${store.host} directs: memcached's allowlist drops every source but the real servers there before IPVS sees the packet, so no client's request would reach the service; ${choose}`;
      const sorry = service.sorryServer;
      if (sorry !== undefined && sorry.address === store.address && sorry.port === port)
        return `port ${port} is the port of ${service.name}'s sorry server ${sorry.address}, session store ${store.host}: memcached's allowlist drops every source but the real servers there, so with every real server down no client's request would reach it; ${choose}`;
      for (const server of service.realServers) {
        if (server.host !== store.host) continue;
        // A NAT real server's own port is where the director sends; 0 keeps the port the client came to.
        const served = service.forwarding === 'nat' && server.port !== 0 ? [server.port] : vipPorts;
        if (served.includes(port)) {
          return `port ${port} is the port session store ${store.host} serves ${service.name} on: memcached's allowlist drops every source but the real servers there, so no client's request would reach it; ${choose}`;
        }
        const checked = service.healthCheck?.port ?? server.port;
        if (service.healthCheck !== undefined && checked === port) {
          return `port ${port} is the port the directors of ${service.name} health-check session store ${store.host} on: memcached's allowlist drops every source but the real servers there, so every check would fail and keepalived would take ${store.host} out; ${choose}`;
        }
      }
    }
  }
  return undefined;
}

function sshPortClash(store: string, port: number, sshPort: number): string | undefined {
  if (sshPort !== port) return undefined;
  return `port ${port} is the SSH port lvsprov reaches session store ${store} on: memcached's allowlist drops every source but the real servers there, which would cut lvsprov's connection (and anyone's SSH) to it; choose another port (memcached's own is 11211)`;
}

/**
 * The same clash where only ssh_config knows the port (a `Port` line for the store, none in the
 * inventory): checked once a command resolved its connections, before it touches a host.
 */
export function sessionPortOnResolvedSsh(inventory: LoadedInventory, inRun: (host: string) => boolean): ConfigProblem[] {
  const port = inventory.data.lvs.sessions?.port;
  if (port === undefined) return [];
  for (const store of resolveSessions(inventory.data, inventory.services)?.stores ?? []) {
    if (!inRun(store.host)) continue;
    const resolved = connectPortOf(inventory, store.host);
    // The inventory's own port was checked as the inventory loaded.
    if (resolved === sshPortOf(inventory.data, store.host)) continue;
    const clash = sshPortClash(store.host, port, resolved);
    if (clash !== undefined) return [inventory.source.problem(path('port'), `${clash}; ssh_config gives the port`)];
  }
  return [];
}

export function sessionsProblems(data: Inventory, services: readonly ResolvedService[], source: { problem(path: PathSegment[], message: string): ConfigProblem }): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  resolveSessions(data, services, (at, message) => void problems.push(source.problem(at, message)));
  return problems;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
