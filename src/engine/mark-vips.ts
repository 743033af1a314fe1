import type { MarkedAddress, RealServerRef } from '../resources/types.js';
import type { PlannedChange } from './events.js';

// IPVS selects a fwmark service's packets by their mark alone, so its table names no VIP; the
// drain still has to know which addresses a leaving server's connections came to, to ask whether
// this director gets their packets (see drain-script.ts). Those are the addresses the director's
// firewall marks give the service's mark: a connection was marked before the run or during it,
// so both the marks as read (the marks' changes carry them, resources/fwmark.ts) and as the
// host's tasks declare them count. Marks made by anything else (an operator's own nftables rule)
// are not known: a server of such a service names no VIP, and its connections always count.

/** `declared`: the marks the host's fwmark tasks declare, which hold before and after a run that leaves them as they are. */
export function withMarkVips(changes: readonly PlannedChange[], declared: readonly MarkedAddress[]): PlannedChange[] {
  const marked = [...declared, ...changes.flatMap((change) => change.marks ?? [])];
  if (marked.length === 0) return [...changes];
  return changes.map((change) => {
    const leaving = change.leaving && markVips(change.leaving, marked);
    return leaving === change.leaving ? change : { ...change, leaving };
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
