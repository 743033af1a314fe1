import { hostVars } from '../config/host-vars.js';
import type { LoadedInventory } from '../config/inventory.js';
import { formatNetwork, isIpv4, networkContains, networkOf, parseNetwork } from '../net/ipv4.js';
import type { DeviceFacts } from './director-probe.js';

// Which VIPs get an ARP check, where their directors hold them, and which hosts could send the
// ARP requests. The router comes first: it is the host that ARPs for the VIP in real life.

export interface VipPlan {
  readonly vip: string;
  readonly directors: ReadonlyArray<{ readonly host: string; readonly device: string }>;
  /** Real servers of every service on this VIP. */
  readonly realServers: ReadonlyArray<{ readonly host?: string; readonly address: string }>;
  /** lvs.ha: the directors share the VIP by VRRP, one holds it. */
  readonly vrrp: boolean;
}

export function vipPlans(inventory: LoadedInventory): VipPlan[] {
  const plans = new Map<string, { directors: Map<string, string>; realServers: Map<string, string | undefined> }>();
  for (const service of inventory.services) {
    if (service.address === undefined) continue;
    const plan = plans.get(service.address) ?? { directors: new Map(), realServers: new Map() };
    plans.set(service.address, plan);
    for (const director of service.directors) {
      const vars = hostVars(inventory, director);
      // Under lvs.ha the VIP is keepalived's (its VRRP instance names the device), not an address task's.
      const vrrpVips = (vars.director_keepalived_config as { instances: Array<{ vips: Array<{ address: string; device: string }> }> }).instances.flatMap((instance) => instance.vips);
      const placed = [...(vars.director_vips as Array<{ address: string; device: string }>), ...vrrpVips].find((entry) => entry.address === service.address);
      plan.directors.set(director, placed?.device ?? 'eth0');
    }
    for (const server of service.realServers) if (!plan.realServers.has(server.address)) plan.realServers.set(server.address, server.host);
  }
  return [...plans.entries()].map(([vip, plan]) => ({
    vip,
    directors: [...plan.directors.entries()].map(([host, device]) => ({ host, device })),
    realServers: [...plan.realServers.entries()].map(([address, host]) => ({ ...(host !== undefined ? { host } : {}), address })),
    vrrp: inventory.data.lvs.ha !== undefined,
  }));
}

/** The director's own LAN on the VIP's device: its first address that is not a /32. */
export function directorLan(facts: DeviceFacts): { address: string; cidr: string } | undefined {
  const lan = facts.addresses.find((entry) => entry.prefix < 32);
  return lan ? { address: lan.address, cidr: formatNetwork(networkOf(lan.address, lan.prefix)) } : undefined;
}

export function inNetwork(address: string, cidr: string): boolean {
  return networkContains(parseNetwork(cidr), address);
}

/** Hosts that may send the ARP requests, best first: routers, clients, then other hosts on the LAN. */
export function checkerCandidates(inventory: LoadedInventory, plan: VipPlan, lanCidr: string): string[] {
  const excluded = new Set([...plan.directors.map((director) => director.host), ...plan.realServers.flatMap((server) => (server.host ? [server.host] : []))]);
  const onLan = Object.entries(inventory.data.hosts)
    .filter(([, entry]) => isIpv4(entry.address) && inNetwork(entry.address, lanCidr))
    .map(([name]) => name);
  const ordered = [...(inventory.groups.get('routers') ?? []), ...(inventory.groups.get('clients') ?? []), ...onLan];
  return [...new Set(ordered)].filter((host) => !excluded.has(host));
}
