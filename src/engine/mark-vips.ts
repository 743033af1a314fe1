import { serverRef, type VirtualService } from '../resources/ipvs/model.js';
import type { MarkedAddress, RealServerRef } from '../resources/types.js';
import type { PlannedChange } from './events.js';
import { markKey } from '../resources/fwmark.js';

// IPVS selects a fwmark service's packets by their mark alone, so its table names no VIP; the
// drain still has to know which addresses a leaving server's connections came to, to ask whether
// this director gets their packets (see drain-script.ts). Those are the addresses the director's
// firewall marks give the service's mark: a connection was marked before the run or during it,
// so both the marks as read (the marks' changes carry them, resources/fwmark.ts) and as the
// host's tasks declare them count. Marks made by anything else (an operator's own nftables rule)
// are not known: a server of such a service names no VIP, and its connections always count.
//
// A mark that stops covering an address while its service stays leaves that service's servers
// in place, and the connections they took through that address too: the kernel finds an
// established connection in its table without asking for the mark. They end where the address
// leaves the director or the real server, so the marks' change names those servers with the
// addresses no longer marked (PlannedChange.unmarks), and the engine drains them there first.

/**
 * `declared`: the marks the host's fwmark tasks declare, which hold before and after a run that
 * leaves them as they are; `services`: the virtual services the host's tasks keep.
 */
export function withMarkVips(changes: readonly PlannedChange[], declared: readonly MarkedAddress[], services: readonly VirtualService[] = []): PlannedChange[] {
  const marked = [...declared, ...changes.flatMap((change) => change.marks ?? [])];
  if (marked.length === 0) return [...changes];
  const kept = new Set(declared.map(markKey));
  return changes.map((change) => {
    const leaving = change.leaving && markVips(change.leaving, marked);
    const unmarks = unmarkedServers((change.marks ?? []).filter((entry) => !kept.has(markKey(entry))), services);
    return leaving === change.leaving && unmarks.length === 0 ? change : { ...change, ...(leaving ? { leaving } : {}), ...(unmarks.length > 0 ? { unmarks } : {}) };
  });
}

/** Each server of a fwmark service in `services` whose mark `unmarked` names, with the addresses it names for that mark. */
function unmarkedServers(unmarked: readonly MarkedAddress[], services: readonly VirtualService[]): RealServerRef[] {
  if (unmarked.length === 0) return [];
  return services.flatMap((service) => {
    if (service.protocol !== 'fwmark') return [];
    return service.realServers.flatMap((server) => {
      const ref = markVips(serverRef(service, server), unmarked);
      return ref.vips !== undefined ? [ref] : [];
    });
  });
}

/** A fwmark service's server with the addresses `marked` gives its mark; any other server as it is. */
export function markVips(server: RealServerRef, marked: readonly MarkedAddress[]): RealServerRef {
  // The marks are IPv4 rules (table ip): an IPv6 fwmark service (`-f N -6`) gets none of their packets.
  if (server.service[0] !== '-f' || server.service.includes('-6')) return server;
  const mark = Number(server.service[1]);
  const vips = [...new Set(marked.filter((entry) => entry.mark === mark).map((entry) => entry.address))];
  return vips.length > 0 ? { ...server, vips } : server;
}
