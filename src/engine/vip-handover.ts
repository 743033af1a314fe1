import { CHANGE_PHASES, type ChangePhase } from '../resources/types.js';
import type { PlannedChange } from './events.js';

// A VIP that moves from one director to another in one apply. The new holder adds it in balance
// and announces it (gratuitous ARP); left alone, the old one would keep it until retire, after its
// drain, and go on answering for it: the router's ARP re-check of the entry (a broadcast once its
// unicast probe is not answered at once), or the old director's own ARP request sent from the VIP
// (a reset it sends for a packet still in flight), updates the router's entry to the old
// director's MAC again, and the clients go back to a director whose real servers are quiesced.
// So the old director lets the VIP go first thing in balance, the wave in which the new one adds
// it (after its services and marks) and announces it at once: the router keeps the new one. Its
// connections through that VIP end at the move anyway (plain directors share no connection
// state), and its drain, which counts a server only while the director still delivers the VIP
// locally, does not wait on them. The run decides which VIPs move (vipHandovers, across hosts);
// each old director's plan is then made again with them (HostContext.handingOver), so that its
// manifest still rides on its last change.

export interface HandoverHost {
  readonly host: string;
  readonly changes: readonly PlannedChange[];
  /** Whether the host directs traffic in this run (IPVS tasks, or IPVS services it deletes). */
  readonly directs: boolean;
}

const rank = (phase: ChangePhase | undefined): number => CHANGE_PHASES.indexOf(phase ?? 'prepare');

/** Whether a host directs traffic in this run: it declares IPVS tasks or its changes touch IPVS. */
export function directsTraffic(taskTypes: readonly string[], changes: readonly PlannedChange[]): boolean {
  return taskTypes.includes('ipvs') || changes.some((change) => change.resource.startsWith('ipvs '));
}

/** A change that takes VIPs off a director after balance (a prune), or that an earlier hand-over moved into balance. */
function lateRemoval(change: PlannedChange): readonly string[] {
  if (!change.resource.startsWith('address ') || !change.releases) return [];
  return change.handedOver !== undefined || rank(change.phase) > rank('balance') ? change.releases : [];
}

/** Whether a hand-over may move this change into balance: a director's plan keeps its read for that (HostRun.handOver). */
export const mayBeHandedOver = (change: PlannedChange): boolean => lateRemoval(change).length > 0;

/**
 * For each director of `hosts` (the run's live hosts) that removes a VIP after balance which
 * another of them announces in balance: that VIP and the hosts that announce it. A director whose
 * new holder is no longer live (it failed in prepare) is not listed: it keeps the VIP until retire.
 */
export function vipHandovers(hosts: readonly HandoverHost[]): Map<string, Map<string, string[]>> {
  const handovers = new Map<string, Map<string, string[]>>();
  for (const { host, changes, directs } of hosts) {
    if (!directs) continue;
    const moving = new Map<string, string[]>();
    for (const address of new Set(changes.flatMap(lateRemoval))) {
      const to = hosts.filter((other) => other.host !== host && other.changes.some((change) => change.announces === address)).map((other) => other.host);
      if (to.length > 0) moving.set(address, to);
    }
    if (moving.size > 0) handovers.set(host, moving);
  }
  return handovers;
}

/** A director's changes with its removals of the VIPs `handingOver` names in balance, marked (see HostContext.handingOver). */
export function handOverRemovals(changes: PlannedChange[], handingOver: ReadonlyMap<string, readonly string[]>): void {
  changes.forEach((change, index) => {
    const to = [...new Set(lateRemoval(change).flatMap((address) => handingOver.get(address) ?? []))];
    if (to.length === 0 || change.handedOver) return;
    changes[index] = { ...change, phase: 'balance', handedOver: { to, phase: change.phase ?? 'prepare' } };
  });
}
