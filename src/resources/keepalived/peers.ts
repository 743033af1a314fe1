import type { ClusterView } from '../types.js';
import type { KeepalivedSpec } from './schema.js';
import { liveInstances, matchingInstance } from './live-instances.js';

// A director dropped from a VRRP group keeps its keepalived running with its old config until
// something stops it. Once the directors that stay stop advertising to it (their new config
// drops it from unicast_peer), it hears no master: three adverts later it becomes MASTER and
// takes the VIPs too, or, master already, it keeps them. So a director may drop a peer only when
// this run retires that peer's keepalived first (the peer is a host of this run: its pruned
// keepalived stops in the prepare wave, before the others reload in balance; a host of the
// inventory that no play reaches is opened for that stop alone), or when the operator says it no
// longer runs (`--stopped-peer`). Anything else refuses the director's plan.

/** The addresses of the `unicast_peer` blocks of a keepalived.conf as lvsprov writes it. */
export function configPeers(text: string): string[] {
  return [...new Set(liveInstances(text).flatMap((instance) => instance.peers))];
}

/**
 * The peers of the config on the host (`live`) that `spec` stops advertising to, instance by
 * instance: a peer that leaves one VRRP group is dropped there even while it stays in another.
 * An instance this director leaves itself drops no peer: its own reload without it, in prepare,
 * stops it advertising there (see plan.ts).
 */
export function droppedPeers(spec: KeepalivedSpec, live: string | undefined): string[] {
  if (live === undefined) return [];
  const dropped = liveInstances(live).flatMap((instance) => {
    const kept = matchingInstance(spec, instance);
    return kept === undefined ? [] : instance.peers.filter((peer) => !kept.unicast_peers.includes(peer));
  });
  return [...new Set(dropped)];
}

/** Why `peer` may not be dropped (or outlived) by this run; undefined where that is safe. */
export function unretiredPeer(peer: string, cluster: ClusterView): string | undefined {
  if (cluster.stoppedPeers.has(peer)) return undefined;
  const host = cluster.hostAt.get(peer);
  const inRun = host !== undefined && (cluster.inRun.has(host) || cluster.retirable?.has(host) === true);
  if (inRun && cluster.prunes) return undefined;
  const where =
    host === undefined
      ? 'no host of the inventory has that address'
      : inRun
        ? `${host} has it, but --tags or --skip-tags leave tasks out, and such a run removes nothing`
        : `${host} has it, but --limit leaves ${host} out of this run`;
  // A tag run has the host already: the whole playbook's run is what stops its keepalived.
  const instead = inRun
    ? `or apply without --tags and --skip-tags, and the apply stops its keepalived first`
    : `or keep ${host ?? 'that host'} in the inventory and in the run (in no play, or in the directors' play directing no service), and the apply stops its keepalived first`;
  return (
    `VRRP peer ${peer} is in this director's keepalived config and the run cannot stop its keepalived (${where}): ` +
    `it would go on running, hear no adverts from here and take the VIPs as a second MASTER. ` +
    `Stop keepalived on ${peer} (or power it off) and apply again with --stopped-peer ${peer}; ${instead}`
  );
}

/** Throws, naming the first such peer, when the run would leave a peer's keepalived running unseen. */
export function refuseUnretiredPeers(peers: readonly string[], cluster: ClusterView | undefined): void {
  if (cluster === undefined) return;
  for (const peer of peers) {
    const why = unretiredPeer(peer, cluster);
    if (why !== undefined) throw new Error(why);
  }
}
