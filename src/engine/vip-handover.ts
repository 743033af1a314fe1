import type { PlannedChange } from './events.js';
import { phaseOf, phaseRank } from './host-plan.js';

// A VIP that moves from one director to another in one apply. The new holder adds it in balance
// and announces it (gratuitous ARP); left alone, the old one would keep it until retire, after its
// drain, and go on answering for it: the router's ARP re-check of the entry (a broadcast once its
// unicast probe is not answered at once), or the old director's own ARP request sent from the VIP
// (a reset it sends for a packet still in flight), updates the router's entry to the old
// director's MAC again, and the clients go back to a director whose real servers are quiesced.
// So the old director lets the VIP go first thing in balance, the wave in which the new one adds
// it (after its services) and announces it a second later: the router keeps the new one. Its
// connections through that VIP end at the move anyway (plain directors share no connection
// state), and its drain, which counts a server only while the director still delivers the VIP
// locally, does not wait on them.

export interface HandoverHost {
  readonly host: string;
  readonly changes: readonly PlannedChange[];
  /** Whether the host directs traffic in this run (IPVS tasks, or IPVS services it deletes). */
  readonly directs: boolean;
}

/** Whether a host directs traffic in this run: it declares IPVS tasks or its changes touch IPVS. */
export function directsTraffic(taskTypes: readonly string[], changes: readonly PlannedChange[]): boolean {
  return taskTypes.includes('ipvs') || changes.some((change) => change.resource.startsWith('ipvs '));
}

/**
 * Each director's plan with its removal of a VIP another host announces in this run moved to the
 * head of its balance changes, and a removal moved so earlier put back in its own wave once no
 * host that is still live announces that VIP (it failed before balance: the old director keeps
 * answering). `hosts` are the run's live hosts; only the plans that change are returned.
 */
export function handOverVips(hosts: readonly HandoverHost[]): Map<string, PlannedChange[]> {
  const replanned = new Map<string, PlannedChange[]>();
  for (const { host, changes, directs } of hosts) {
    if (!directs) continue;
    const announcers = (address: string): string[] => hosts.filter((other) => other.host !== host && other.changes.some((change) => change.announces === address)).map((other) => other.host);
    let moved = false;
    const placed = changes.map((change) => {
      if (!change.resource.startsWith('address ') || !change.releases) return { change, head: false };
      const phase = change.handedOver?.phase ?? phaseOf(change);
      const to = [...new Set(change.releases.flatMap(announcers))];
      if (to.length > 0 && phaseRank(phase) > phaseRank('balance')) {
        moved ||= change.handedOver === undefined;
        return { change: { ...change, phase: 'balance' as const, handedOver: { to, phase } }, head: true };
      }
      if (!change.handedOver) return { change, head: false };
      moved = true;
      const { handedOver: _moved, ...back } = change;
      return { change: { ...back, phase }, head: false };
    });
    if (!moved) continue;
    const heads = placed.filter((entry) => entry.head).map((entry) => entry.change);
    const rest = placed.filter((entry) => !entry.head).map((entry) => entry.change);
    // Back in phase order (a change put back in retire), then the heads before every other balance change.
    rest.sort((a, b) => phaseRank(phaseOf(a)) - phaseRank(phaseOf(b)));
    const at = rest.findIndex((change) => phaseRank(phaseOf(change)) >= phaseRank('balance'));
    const index = at === -1 ? rest.length : at;
    replanned.set(host, [...rest.slice(0, index), ...heads, ...rest.slice(index)]);
  }
  return replanned;
}
