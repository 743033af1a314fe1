import { isIpv4 } from '../net/ipv4.js';
import type { LoadedInventory } from './inventory.js';
import type { PathSegment } from './yaml-source.js';

// A real server listed by an `address` that is another inventory host's: the director sends that
// host the requests, while the tasks a real server needs (the VIP on lo and ARP suppression for DR,
// the tunnel for TUN, the route back through the director for NAT) go to the host the entry names,
// or, for an entry with no host, to nobody. Every request of that share is dropped. A host's own
// address under another name is never meant; the fix is to name the host that has it.
//
// Allowed: an entry without a host at the address of one of the service's directors (IPVS
// "localnode": the director serves the request itself).

type Inventory = Pick<LoadedInventory, 'data' | 'services'>;
type Report = (path: PathSegment[], message: string) => void;

export function realServersAtOtherHosts(inventory: Inventory, report: Report): void {
  const { data } = inventory;
  const asked = new Set<string>();
  for (const service of data.lvs.services) for (const server of service.real_servers) if (server.address !== undefined && isIpv4(server.address)) asked.add(server.address);
  if (asked.size === 0) return;
  // Only the addresses asked about are kept: an inventory may have 75,000 hosts.
  const owners = new Map<string, string[]>();
  for (const name in data.hosts) {
    const address = data.hosts[name]!.address;
    if (asked.has(address)) owners.set(address, [...(owners.get(address) ?? []), name]);
  }
  data.lvs.services.forEach((service, index) => {
    const directors = inventory.services[index]?.directors ?? [];
    service.real_servers.forEach((server, serverIndex) => {
      const address = server.address;
      const hosts = address === undefined ? undefined : owners.get(address);
      if (address === undefined || hosts === undefined || (server.host !== undefined && hosts.includes(server.host))) return;
      if (server.host === undefined && hosts.some((host) => directors.includes(host))) return;
      const owner = hosts[0]!;
      const at: PathSegment[] = ['lvs', 'services', index, 'real_servers', serverIndex, 'address'];
      report(
        at,
        server.host !== undefined
          ? `real server ${server.host}'s address ${address} is the address of host ${owner}: the director would send ${server.host}'s requests to ${owner}, and ${owner} gets no real-server setup for this service; list it as \`host: ${owner}\`, or give the address where the director reaches ${server.host}`
          : `real server ${address} is the address of host ${owner}, which this entry leaves without its real-server setup (no host named), so every request sent there would be dropped; list it as \`host: ${owner}\``,
      );
    });
  });
}
