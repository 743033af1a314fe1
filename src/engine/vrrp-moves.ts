import type { PlannedChange } from './events.js';

// A VIP that moves from one keepalived pair to another in one apply (its services given to other
// directors). Kept on the old pair through the drain, as a VIP that leaves with its service is,
// it would go on being announced there: keepalived sends gratuitous ARPs for a master's VIPs after
// every reload, so the old pair's reload (in balance, its servers quiesced) and the new pair's
// start or reload raced for the router's ARP entry, and where the old one's came last the VIP's
// new connections met weight-0 servers, refused, until the old pair's withdraw dropped the VIP. A
// plain director lets a VIP it hands over go first thing in balance (vip-handover.ts); the old
// pair does the same: the first config it writes in the run leaves the VIP out
// (resources/keepalived/plan.ts, given the VIP in HostContext.handingOver). The connections made
// through it end at the move either way (the new pair has none of their state), and the old
// pair's drain, which counts a server only while its director delivers the VIP, does not wait on
// them. Decided, as a plain hand-over is, on the hosts still live: where every new director
// failed before balance, the old pair keeps the VIP through its drain, as one dropped from the
// inventory.

export interface VrrpHost {
  readonly host: string;
  /** Whether the run gives the host a keepalived task. */
  readonly keepalived: boolean;
}

/**
 * For each keepalived director of `live` (the run's hosts still live): the VIPs the inventory
 * gives only to other directors, each with those of them that are live; VIPs none of them takes
 * are left out.
 */
export function vipsMovingAway(live: readonly VrrpHost[], vipDirectors: ReadonlyMap<string, readonly string[]>): Map<string, Map<string, string[]>> {
  const alive = new Set(live.map(({ host }) => host));
  const moving = new Map<string, Map<string, string[]>>();
  for (const { host, keepalived } of live) {
    if (!keepalived) continue;
    const away = new Map<string, string[]>();
    for (const [address, directors] of vipDirectors) {
      const takers = directors.includes(host) ? [] : directors.filter((director) => alive.has(director));
      if (takers.length > 0) away.set(address, takers);
    }
    if (away.size > 0) moving.set(host, away);
  }
  return moving;
}

/**
 * Whether a hand-over may plan this change again: a keepalived config written after the drain,
 * which keeps until then VIPs the run may see move away (its director keeps its read for that).
 */
export const mayLetVipsGoSooner = (change: PlannedChange): boolean => change.resource === 'keepalived' && change.diff?.kind === 'file' && change.phase === 'withdraw';
