import type { AddressOwner } from './address-owners.js';
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

/** The real servers' addresses, for `addressOwners` to look up. */
export function realServerAddresses(inventory: Inventory): string[] {
  return inventory.data.lvs.services.flatMap((service) => service.real_servers.flatMap((server) => (server.address === undefined ? [] : [server.address])));
}

/** `owners`: `addressOwners` of (at least) `realServerAddresses`. */
export function realServersAtOtherHosts(inventory: Inventory, owners: ReadonlyMap<string, readonly AddressOwner[]>, report: Report): void {
  inventory.data.lvs.services.forEach((service, index) => {
    const directors = inventory.services[index]?.directors ?? [];
    service.real_servers.forEach((server, serverIndex) => {
      const address = server.address;
      const hosts = address === undefined ? undefined : owners.get(address)?.flatMap((owner) => (owner.as === 'address' ? [owner.host] : []));
      if (address === undefined || hosts === undefined || hosts.length === 0 || (server.host !== undefined && hosts.includes(server.host))) return;
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
