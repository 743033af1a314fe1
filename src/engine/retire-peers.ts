import type { PlannedChange } from './events.js';

// A director dropped from a VRRP group that no play reaches any more is still a host of the
// inventory: the run knows how to reach it. Once the directors' plans show which peers their new
// configs drop, the run opens such a host too (read under its lock like any other), for one thing
// only: its recorded keepalived is pruned, and stops in prepare, before the directors that stay
// reload without it in balance. A host --limit leaves out is never opened (the directors refuse
// at their plan instead, see resources/keepalived/peers.ts).

/** The ids of the recorded objects such a host is opened to remove. */
export const RETIRED_WITH_PEER: readonly string[] = ['keepalived'];

/**
 * Hosts outside the run that the planned changes drop as VRRP peers and the run may open
 * (`retirable`), in the order first named; `hostAt` finds a peer's host, `inRun` the hosts already open.
 */
export function peersToRetire(changes: readonly PlannedChange[], hostAt: ReadonlyMap<string, string>, retirable: ReadonlySet<string>, inRun: ReadonlySet<string>): string[] {
  const hosts = changes.flatMap((change) => change.vrrpPeers ?? []).flatMap((address) => {
    const host = hostAt.get(address);
    return host !== undefined && retirable.has(host) && !inRun.has(host) ? [host] : [];
  });
  return [...new Set(hosts)];
}
