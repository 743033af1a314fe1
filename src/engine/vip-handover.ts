import { CHANGE_PHASES, type ChangePhase } from '../resources/types.js';
import type { PlannedChange } from './events.js';

// A VIP that moves from one director to another in one apply. The new holder adds it in balance
// and announces it (gratuitous ARP); left alone, the old one would keep it until retire, after its
// drain, and go on answering for it: the router's ARP re-check of the entry (a broadcast once its
// unicast probe is not answered at once), or the old director's own ARP request sent from the VIP
// (a reset it sends for a packet still in flight), updates the router's entry to the old
// director's MAC again, and the clients go back to a director whose real servers are quiesced.
// So the old director lets the VIP go first thing in balance. Its connections through that VIP
// end at the move anyway (plain directors share no connection state), and its drain, which counts
// a server only while the director still delivers the VIP locally, does not wait on them. The run
// decides which VIPs move (vipHandovers, across hosts); each old director's plan is then made
// again with them (HostContext.handingOver), so that its manifest still rides on its last change.
//
// The two directors' balance execs run in parallel on two hosts, and nothing but the removal
// being first in the old one's script put it ahead of the new one's announce (by 0.3-0.6 s on
// the lab): an old director slower to start (a slow link, a loaded host) still held the VIP when
// the new one announced it, answered the router's next ARP check, and got the VIP's traffic back
// after it let the VIP go: a black hole until the router checked again. So the new director
// (vipTakeovers, HostContext.takingOver) runs its balance in two execs: first its services,
// marks and quiesces, which need not wait; then, once every old holder's exec reported its
// removal done (its section's end, followed as the output streams, see vip-release.ts), the add
// and the announce. Only a director that takes a VIP over pays that round trip; the VIP has no
// holder from the old one's removal to the new one's add, about one round trip.
//
// When an old holder did not let the VIP go (it failed before balance, its removal failed, its
// connection went before the removal's end was seen), the new one does not add it: that change
// and its announce are held back. The old director's exec stops at its first failing
// change and the removal is its first: it still holds the VIP, and, its quiesces never run, still
// serves it with its whole table. Adding the VIP beside it would make two directors answer ARP
// for it, the router sending each client to whichever answered last, a split that no report
// shows. Held back, the service stays where it was, the plan says why, and the next apply moves
// the VIP. (An old holder unreachable from the start has no plan and is no old holder here: the
// new one's read asks the LAN, and vip-claims.ts refuses it while anyone answers for the VIP.)

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

/**
 * `handovers` (old director -> VIP -> new ones) the other way round: for each director that takes
 * VIPs over in this run, each VIP and the directors that give it up. A director waits for those.
 */
export function vipTakeovers(handovers: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>): Map<string, Map<string, string[]>> {
  const takeovers = new Map<string, Map<string, string[]>>();
  for (const [from, moving] of handovers) {
    for (const [address, takers] of moving) {
      for (const taker of takers) {
        const vips = takeovers.get(taker) ?? new Map<string, string[]>();
        vips.set(address, [...(vips.get(address) ?? []), from]);
        takeovers.set(taker, vips);
      }
    }
  }
  return takeovers;
}

/**
 * A new holder's add and announce of each VIP `takingOver` names, marked to wait for its old
 * holders (see HostContext.takingOver): the balance changes on the announce's resource.
 */
export function awaitReleases(changes: PlannedChange[], takingOver: ReadonlyMap<string, readonly string[]>): void {
  const resources = new Map(changes.flatMap((change) => (change.announces !== undefined && takingOver.has(change.announces) ? [[change.resource, change.announces] as const] : [])));
  changes.forEach((change, index) => {
    const address = resources.get(change.resource);
    const from = address === undefined || change.phase !== 'balance' ? undefined : takingOver.get(address);
    if (address !== undefined && from !== undefined) changes[index] = { ...change, awaitsRelease: { address, from } };
  });
}

/** Whether a change may be made to wait for an old holder: a VIP's add or its announce (the announce marks both). */
export const mayTakeOver = (change: PlannedChange): boolean => change.announces !== undefined;
