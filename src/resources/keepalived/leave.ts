import { quote } from '../../shell/quote.js';
import { removeFileCommands } from '../file-state.js';
import type { Change } from '../types.js';
import { daemonCommand, untilStopped } from './daemon.js';
import { heldBeforeCommand, holdsAnyVip, untilPeerSkewPassed } from './peer-skew.js';
import { faultFlagPath, setFlagCommands, tracking, untilWatched } from './fault-flag.js';
import { leftInstances, liveInstances, outOfSyncGroups, vipAddresses, withoutInstances, type LiveInstance } from './live-instances.js';
import type { KeepalivedFacts } from './probe.js';
import type { KeepalivedSpec } from './schema.js';
import { writeConfigCommands } from './write-config.js';

// A director that leaves a VRRP group (an instance of its running config the spec no longer has)
// while the spec keeps it in another: before the group's other directors reload without it in
// balance, it leaves, in prepare, and nothing else of its config changes yet. Later, unheard by
// peers that no longer advertise to it, it would take the group's VIPs as a second master.
//
// Where it was MASTER its VIPs must pass to a peer without being on two directors at once and
// without waiting out the master-down interval. keepalived 2.2.7's reload deletes an instance
// without a priority 0 advert its peers receive (they waited 3 adverts and the skew, the VIPs held
// nowhere); at priority 1 first, a peer preempted it only when its master-down timer ran out (a
// backup discards a lower priority advert), a peer with nopreempt never, and the two held the VIPs
// together for the few ms between the peer's addition and this one's deletion on its advert. So
// the instance goes to FAULT by a tracked file (fault-flag.ts): priority 0, its VIPs removed, and
// the next priority adds them after its skew, nopreempt or not. It leaves its sync group in the
// same reload: a member's FAULT puts the whole group in FAULT, instances that stay included. Then the instance goes: by a
// reload without it where other instances stay, and where none would (the groups it joins are not
// in its running config yet, and keepalived -t takes no config without an instance or virtual
// server) by a clean stop, which sends priority 0 for each MASTER instance itself; it starts on its
// new config in the wave a fresh start takes, once its new groups' peers know it (daemonChanges).

export interface Leave {
  readonly change: Change;
  /** Whether it stops keepalived to leave (it holds no instance until its new config starts). */
  readonly stops: boolean;
}

export function leaveChange(spec: KeepalivedSpec, facts: KeepalivedFacts): Leave | undefined {
  const left = facts.running && facts.file.exists ? leftInstances(spec, facts.file.content) : [];
  if (left.length === 0 || spec.instances.length === 0) return undefined;
  const names = new Set(left.map((instance) => instance.name));
  const after = withoutInstances(facts.file.content, names);
  const stops = liveInstances(after).length === 0;
  const groups = left.map((instance) => `${instance.name} (virtual_router_id ${instance.virtualRouterId})`).join(', ');
  const vips = left.flatMap((instance) => instance.vips);
  const moving = movedVips(spec, left);
  // Every director leaves in prepare and the new group's master takes them in balance.
  const outage = moving.length > 0 ? `; ${moving.join(', ')} move${moving.length === 1 ? 's' : ''} to a group it joins and ${moving.length === 1 ? 'is' : 'are'} held by no director until that group's master takes ${moving.length === 1 ? 'it' : 'them'} in balance (seconds: a change for a maintenance window)` : '';
  if (stops) {
    const wait = untilStopped(facts.manager);
    return {
      stops,
      change: {
        resource: 'keepalived',
        summary: `leave VRRP ${groups}: stop keepalived (where it is master, its last advert, priority 0, hands the VIPs to the next priority, nopreempt or not; it would hold no instance until the groups it joins know this director; it starts on the new config then), before its peers drop this director${outage}`,
        diff: { kind: 'value', before: 'running', after: 'stopped' },
        commands: [heldBeforeCommand(vips), daemonCommand(facts.manager, 'stop'), ...(wait === undefined ? [] : [wait]), untilPeerSkewPassed],
        phase: 'prepare',
      },
    };
  }
  const flag = faultFlagPath(spec.path);
  return {
    stops,
    change: {
      resource: 'keepalived',
      summary: `leave VRRP ${groups}: reload ${spec.path} with it tracking ${flag}, set that to 1 (the instance goes to FAULT: where it is master, a priority 0 advert hands the VIPs to the next priority, nopreempt or not), then reload without it, before its peers drop this director${outage}`,
      diff: { kind: 'file', before: facts.file.content, after },
      commands: [
        ...setFlagCommands(flag, 0),
        ...writeConfigCommands(spec.path, tracking(outOfSyncGroups(facts.file.content, names), names, flag)),
        untilWatched(flag),
        heldBeforeCommand(vips),
        ...setFlagCommands(flag, 1),
        untilReleased(left, `${flag} was set to 1`),
        untilPeerSkewPassed,
        ...writeConfigCommands(spec.path, after),
        ...removeFileCommands(flag),
      ],
      phase: 'prepare',
    },
  };
}

/**
 * The peers of the groups this director leaves whose VIPs it holds again in a group it joins (its
 * VRRP id renumbered, or a VIP moved to another group of the same directors). Such a peer leaves
 * the old group in this run's prepare too; one whose host failed or was unreachable before that
 * still runs it, and takes its VIPs once this director leaves (its priority 0, or three adverts
 * unheard): this director's new group would then hold them beside it, two masters answering ARP
 * for one VIP. The changes that bring the new groups carry these peers (Change.vrrpPeers), so the
 * engine holds them back while such a peer's host is stopped.
 */
export function movedVipPeers(spec: KeepalivedSpec, facts: KeepalivedFacts): string[] {
  if (!facts.running || !facts.file.exists) return [];
  const left = leftInstances(spec, facts.file.content);
  const moving = new Set(movedVips(spec, left));
  const moved = left.filter((instance) => instance.vips.some((vip) => moving.has(vip.address)));
  return [...new Set(moved.flatMap((instance) => instance.peers))];
}

/** The VIPs of the left instances that an instance of the spec holds again, each once. */
function movedVips(spec: KeepalivedSpec, left: readonly LiveInstance[]): string[] {
  const held = new Set(vipAddresses(spec.instances));
  return vipAddresses(left).filter((address) => held.has(address));
}

/** Shell `{ a || b; }`: whether keepalived holds any VIP of the left instances here. */
function holdsAny(left: readonly LiveInstance[]): string | undefined {
  return holdsAnyVip(left.flatMap((instance) => instance.vips));
}

/** Shell that waits up to 5 s for keepalived to remove the left instances' VIPs (where it was MASTER) after `cause`, and fails if it did not. */
function untilReleased(left: readonly LiveInstance[], cause: string): string {
  const any = holdsAny(left);
  if (any === undefined) return 'true';
  const still = quote(`keepalived still holds a VIP of ${left.map((instance) => instance.name).join(', ')} 5 s after ${cause}`);
  return `i=0; while ${any} && [ "$i" -lt 50 ]; do i=$((i+1)); sleep 0.1; done; if ${any}; then printf '%s\\n' ${still} >&2; false; fi`;
}
