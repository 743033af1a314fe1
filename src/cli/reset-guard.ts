import type { LoadedInventory } from '../config/inventory.js';

// What a person should know before a reset: a real server reset while its director stays
// configured loses its VIP, but the director keeps sending it a share of the traffic, which then
// fails. Decided from the inventory alone, before any host is contacted.

export interface LiveTrafficWarning {
  readonly realServer: string;
  readonly service: string;
  readonly directors: readonly string[];
}

export function liveTrafficWarnings(inventory: LoadedInventory, resetHosts: ReadonlySet<string>): LiveTrafficWarning[] {
  const warnings: LiveTrafficWarning[] = [];
  for (const service of inventory.services) {
    const keptDirectors = service.directors.filter((director) => !resetHosts.has(director));
    if (keptDirectors.length === 0) continue;
    for (const server of service.realServers) {
      if (server.host && server.weight > 0 && resetHosts.has(server.host) && !service.directors.includes(server.host)) {
        warnings.push({ realServer: server.host, service: service.name, directors: keptDirectors });
      }
    }
  }
  return warnings;
}

export function describeWarning(warning: LiveTrafficWarning): string {
  return (
    `${warning.realServer} is a real server of ${warning.service} (weight > 0) on ${warning.directors.join(', ')}, which this reset leaves in place: ` +
    `the director keeps sending it traffic after its VIP is gone; set its weight to 0 and apply first, or reset the director too`
  );
}
