import type { ClusterView } from '../types.js';

// A VIP that moves from one director pair to another in one apply (its services given to other
// directors). Kept on the old pair through the drain, as a VIP that leaves with its service is,
// it would go on being announced there: keepalived sends gratuitous ARPs for a master's VIPs after
// every reload, so the old pair's reload (in balance, its servers quiesced) and the new pair's
// start or reload raced for the router's ARP entry, and where the old one's came last the VIP's new
// connections met weight-0 servers, refused, until the old pair's withdraw dropped the VIP. A
// plain director lets a VIP it hands over go first thing in balance (engine/vip-handover.ts); the
// old pair does the same: the first config it writes in the run leaves the VIP out. The
// connections made through it end at the move either way (the new pair has no state of theirs),
// and the old pair's drain, which counts a server only while its director delivers the VIP
// locally, does not wait on them.

/**
 * The VIPs the inventory gives only to directors other than `host`, some of them in this run,
 * each with those directors; empty without a view of the cluster (status, a run of one host).
 */
export function vipsTakenElsewhere(host: string, cluster: ClusterView | undefined): ReadonlyMap<string, readonly string[]> {
  const taken = new Map<string, readonly string[]>();
  if (!cluster?.vipDirectors) return taken;
  for (const [address, directors] of cluster.vipDirectors) {
    if (directors.includes(host)) continue;
    const takers = directors.filter((director) => cluster.inRun.has(director));
    if (takers.length > 0) taken.set(address, takers);
  }
  return taken;
}
