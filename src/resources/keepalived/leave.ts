import { quote } from '../../shell/quote.js';
import type { Change } from '../types.js';
import { daemonCommand, untilStopped } from './daemon.js';
import { atPriority, leftInstances, liveInstances, withoutInstances, type LiveInstance } from './live-instances.js';
import type { KeepalivedFacts } from './probe.js';
import type { KeepalivedSpec } from './schema.js';
import { writeConfigCommands } from './write-config.js';

// A director that leaves a VRRP group (an instance of its running config the spec no longer has)
// while the spec keeps it in another: before the group's other directors reload without it in
// balance, it leaves, in prepare, and nothing else of its config changes yet. Later, unheard by
// peers that no longer advertise to it, it would take the group's VIPs as a second master.
//
// keepalived 2.2.7's reload deletes a MASTER instance without a priority 0 advert its peers
// receive: they would take its VIPs only after the master-down interval (3 adverts and the skew),
// the VIPs held nowhere meanwhile. So it first reloads the instance at priority 1 and waits until
// the next priority preempts it (the peer adds the VIPs as its advert makes this one drop them: no
// gap). Then the instance goes: by a reload without it where other instances stay, and where none
// would (the groups it joins are not in its running config yet, and keepalived -t takes no config
// without an instance or virtual server) by a clean stop; it starts on its new config in the wave
// a fresh start takes, once its new groups' peers know it (daemonChanges).

export interface Leave {
  readonly change: Change;
  /** Whether it stops keepalived to leave (it holds no instance until its new config starts). */
  readonly stops: boolean;
}

/** The lowest VRRP priority: every peer of the group preempts an instance at it (equal priorities do not). */
const YIELD_PRIORITY = 1;

export function leaveChange(spec: KeepalivedSpec, facts: KeepalivedFacts): Leave | undefined {
  const left = facts.running && facts.file.exists ? leftInstances(spec, facts.file.content) : [];
  if (left.length === 0 || spec.instances.length === 0) return undefined;
  const names = new Set(left.map((instance) => instance.name));
  const after = withoutInstances(facts.file.content, names);
  const stops = liveInstances(after).length === 0;
  const yielding = atPriority(facts.file.content, names, YIELD_PRIORITY);
  const waitSeconds = 3 * spec.advert_interval + 2;
  const groups = left.map((instance) => `${instance.name} (virtual_router_id ${instance.virtualRouterId})`).join(', ');
  const first = `reload ${spec.path} with it at priority ${YIELD_PRIORITY} until a peer takes its VIPs (at most ${waitSeconds} s)`;
  const yieldCommands = [...writeConfigCommands(spec.path, yielding), untilPreempted(left, waitSeconds)];
  if (stops) {
    const wait = untilStopped(facts.manager);
    return {
      stops,
      change: {
        resource: 'keepalived',
        summary: `leave VRRP ${groups}: ${first}, then stop keepalived (it would hold no instance until the groups it joins know this director; it starts on the new config then), before its peers drop this director`,
        diff: { kind: 'value', before: 'running', after: 'stopped' },
        commands: [...yieldCommands, daemonCommand(facts.manager, 'stop'), ...(wait === undefined ? [] : [wait])],
        phase: 'prepare',
      },
    };
  }
  return {
    stops,
    change: {
      resource: 'keepalived',
      summary: `leave VRRP ${groups}: ${first}, then without it, before its peers drop this director`,
      diff: { kind: 'file', before: facts.file.content, after },
      commands: [...yieldCommands, ...writeConfigCommands(spec.path, after), untilReleased(left)],
      phase: 'prepare',
    },
  };
}

/** Shell `{ a || b; }`: whether keepalived holds any VIP of the left instances here. */
function holdsAny(left: readonly LiveInstance[]): string | undefined {
  const held = left.flatMap((instance) => instance.vips).map((vip) => `ip -o -4 addr show dev ${quote(vip.device)} | grep -qF -e ${quote(` ${vip.address} `)}`);
  return held.length === 0 ? undefined : `{ ${held.join(' || ')}; }`;
}

/**
 * Shell that waits up to `seconds` for a peer to preempt the yielding instances (their VIPs gone
 * from here). No peer may do so (all stopped, or nopreempt): the removal then goes ahead, and its
 * peers take the VIPs after the master-down interval (a stop: within the skew), as without this step.
 */
function untilPreempted(left: readonly LiveInstance[], seconds: number): string {
  const any = holdsAny(left);
  return any === undefined ? 'true' : `i=0; while ${any} && [ "$i" -lt ${seconds * 10} ]; do i=$((i+1)); sleep 0.1; done`;
}

/** Shell that waits up to 5 s for keepalived's reload to remove the left instances' VIPs (where it was MASTER), and fails if it did not. */
function untilReleased(left: readonly LiveInstance[]): string {
  const any = holdsAny(left);
  if (any === undefined) return 'true';
  const still = quote(`keepalived still holds a VIP of ${left.map((instance) => instance.name).join(', ')} 5 s after its reload without it`);
  return `i=0; while ${any} && [ "$i" -lt 50 ]; do i=$((i+1)); sleep 0.1; done; if ${any}; then printf '%s\\n' ${still} >&2; false; fi`;
}
