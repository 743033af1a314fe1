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
// When an old holder did not let the VIP go, as far as this run knows (it failed before balance,
// its removal failed, its connection went before the removal's end was seen), what it did is
// unknown: a removal that failed, or never ran (the old director's exec stops at its first
// failing change, and the removal is its first), leaves it holding the VIP and, its quiesces never
// run, serving it with its whole table; a connection cut right after the removal leaves the VIP
// with no holder at all, the service behind it down until the next apply. Only the segment knows
// which, so the new holder asks it, in the same second exec, right before the add: duplicate
// address detection (`arping -D`, resources/arp-dad.ts, the announce's holderCheck). Nobody
// answers: the add and the announce go on, and the service comes back. Someone answers: adding
// the VIP beside it would make two hosts answer ARP for it, the router sending each client to
// whichever answered last, a split that no report shows; the check fails, naming the MACs that
// answered, the add and the announce are not run, and the host fails (so does the run's exit
// code). No arping on the new holder: the check fails saying so, and nothing is added. A DR real
// server holds the VIP on lo with arp_ignore=1 and does not answer, so it never counts; with the
// arp rules wrong it answers, and counts, as it would take the router's traffic. An old holder
// that let the VIP go as reported costs nothing of this: no check, no arping.
// (An old holder unreachable from the start has no plan and is no old holder here: the new one's
// read asks the LAN, and vip-claims.ts refuses it while anyone answers for the VIP.) keepalived's
// VIPs never come here: keepalived moves them itself, and only a plain director's address task
// with `announce` makes the changes this file moves.

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

/** The second exec of a new holder's balance, and the VIPs it cannot take (with why). */
export interface TakeoverExec {
  readonly changes: PlannedChange[];
  readonly held: Map<string, string>;
}

/**
 * The second exec of a new holder's balance from its `waiting` adds and announces, given the old
 * holders that did not let each VIP go (`unreleased`, VIP -> hosts; absent: all let it go). A VIP
 * every old holder let go is added and announced as planned. One that some did not is asked after
 * on its segment first: its announce's holderCheck runs right before its add, and fails, stopping
 * the exec there, while anyone still answers for it. A VIP with no check to run is held back.
 */
export function takeoverExec(waiting: readonly PlannedChange[], unreleased: ReadonlyMap<string, readonly string[]>): TakeoverExec {
  const held = new Map<string, string>();
  const changes: PlannedChange[] = [];
  const asked = new Set<string>();
  for (const change of waiting) {
    const address = change.awaitsRelease?.address;
    const holders = address === undefined ? undefined : unreleased.get(address);
    if (address === undefined || holders === undefined || holders.length === 0) {
      changes.push(change);
      continue;
    }
    const announce = waiting.find((other) => other.awaitsRelease?.address === address && other.holderCheck !== undefined);
    const check = announce?.holderCheck;
    if (announce === undefined || check === undefined) {
      held.set(address, `${holders.join(', ')} did not let ${address} go (it failed or stopped before its removal ended) and nothing here can ask the segment whether it still holds it: two holders split the router's clients; apply again once it is reachable or no longer holds it`);
      continue;
    }
    if (!asked.has(address)) {
      asked.add(address);
      changes.push({
        resource: change.resource,
        summary: `${check.summary}: ${holders.join(', ')} did not let it go as far as this run knows (failed, or lost before its removal's end was heard)`,
        commands: [check.command],
        task: announce.task,
        ...(announce.role !== undefined ? { role: announce.role } : {}),
        phase: 'balance',
        ...(change.awaitsRelease ? { awaitsRelease: change.awaitsRelease } : {}),
      });
    }
    changes.push(change);
  }
  return { changes, held };
}
