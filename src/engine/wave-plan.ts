import { CHANGE_PHASES, type ChangePhase, type RealServerRef, type Rebinding } from '../resources/types.js';
import type { PlannedChange } from './events.js';
import { changesIn, phaseOf } from './host-plan.js';

// Every host's plan -> the waves of the ordered apply, pure. A wave holds the hosts with changes
// in its phase (they run in parallel); waves run one after the other, and after the reroute wave
// every director with leaving real servers drains them before any withdraw runs. A real server a
// director keeps at weight 0 is drained there too when its host restarts a pool's daemon in
// retire (service.ts): the restart may cut what is still open, as a deletion would. So is a real
// server whose forwarding method a director switched in balance, for the connections it made by
// the old method, before the real server takes that method's setup off in retire.

/** A host's plan; `quiesced`: the real servers it keeps at weight 0 once balance ran (kept-quiesced.ts). */
export interface HostPlan {
  readonly host: string;
  readonly changes: readonly PlannedChange[];
  readonly quiesced?: readonly RealServerRef[];
}

export interface Wave {
  readonly phase: ChangePhase;
  readonly hosts: ReadonlyArray<{ readonly host: string; readonly changes: readonly PlannedChange[] }>;
}

/** One director's wait, after the balance and reroute waves, for its leaving real servers to have no active connection. */
export interface Drain {
  readonly host: string;
  readonly servers: readonly RealServerRef[];
  /** Those of `servers` it keeps at weight 0, drained because `restarts` (their host) restarts its daemon in retire. */
  readonly kept?: ReadonlyArray<{ readonly server: RealServerRef; readonly restarts: string }>;
  /**
   * Those of `servers` whose forwarding method it changes in balance: only the connections made
   * by the old method are waited for, before their host takes that method's setup off in retire.
   */
  readonly switched?: readonly Rebinding[];
}

/**
 * A director that takes a moved VIP over: it adds and announces `address` in a second exec of its
 * balance, once every director of `from` let the VIP go (vip-handover.ts).
 */
export interface Takeover {
  readonly host: string;
  readonly address: string;
  readonly from: readonly string[];
}

export interface WavePlan {
  /** Only the phases some host has changes in, in order. */
  readonly waves: readonly Wave[];
  readonly drains: readonly Drain[];
  /** Within balance: who waits for whom to let which VIP go. */
  readonly takeovers: readonly Takeover[];
}

export function serverKey(ref: RealServerRef): string {
  return `${ref.service.join(' ')} ${ref.server}`;
}

/** The distinct leaving real servers among a host's changes, in plan order. */
export function leavingServers(changes: readonly PlannedChange[]): RealServerRef[] {
  const seen = new Map<string, RealServerRef>();
  for (const change of changes) if (change.leaving && !seen.has(serverKey(change.leaving))) seen.set(serverKey(change.leaving), change.leaving);
  return [...seen.values()];
}

/** Real-server address -> the directors that switch its forwarding between NAT and DR or TUN. */
export function forwardingSwitches(plans: readonly HostPlan[]): Map<string, string[]> {
  const switches = new Map<string, string[]>();
  for (const { host, changes } of plans) {
    for (const change of changes) {
      if (!change.switching) continue;
      const directors = switches.get(change.switching.address) ?? [];
      if (!directors.includes(host)) directors.push(host);
      switches.set(change.switching.address, directors);
    }
  }
  return switches;
}

/**
 * The hosts whose default route follows a director's forwarding switch, by their real-server
 * address (`realServers`: address -> inventory host).
 */
export function reroutedHosts(plans: readonly HostPlan[], realServers: ReadonlyMap<string, string>): Set<string> {
  return new Set([...forwardingSwitches(plans).keys()].flatMap((address) => realServers.get(address) ?? []));
}

/** The VIPs another host announces in this run (gratuitous ARP, balance): the router sends them there now. */
export function takenOver(plans: readonly HostPlan[], host: string): string[] {
  return [...new Set(plans.filter((plan) => plan.host !== host).flatMap(({ changes }) => changes.flatMap((change) => (change.announces ? [change.announces] : []))))];
}

/** `realServers`: the inventory's real-server addresses and their hosts, to find whose daemon restarts. */
export function planWaves(plans: readonly HostPlan[], realServers: ReadonlyMap<string, string> = new Map()): WavePlan {
  const waves = CHANGE_PHASES.map((phase) => ({
    phase,
    hosts: plans.map(({ host, changes }) => ({ host, changes: changesIn(changes, phase) })).filter((entry) => entry.changes.length > 0),
  })).filter((wave) => wave.hosts.length > 0);
  return { waves, drains: drains(plans, realServers), takeovers: takeovers(plans) };
}

/** The real servers whose forwarding method a host's changes switch, a server once. */
export function switchedServers(changes: readonly PlannedChange[]): Rebinding[] {
  const seen = new Map<string, Rebinding>();
  for (const change of changes) if (change.rebinds && !seen.has(serverKey(change.rebinds.server))) seen.set(serverKey(change.rebinds.server), change.rebinds);
  return [...seen.values()];
}

/**
 * Each director's drain: its leaving servers, then those it keeps at weight 0 whose host
 * restarts a pool's daemon in retire, then those whose forwarding method it switches.
 */
export function drains(plans: readonly HostPlan[], realServers: ReadonlyMap<string, string>): Drain[] {
  const restarting = new Set(plans.filter(({ changes }) => changes.some((change) => change.restartsPool === true && phaseOf(change) === 'retire')).map(({ host }) => host));
  return plans
    .map((plan) => {
      const { host, changes } = plan;
      const leaving = leavingServers(changes);
      const keys = new Set(leaving.map(serverKey));
      // Read only when some host restarts: most runs restart none.
      const kept = restarting.size === 0 ? [] : (plan.quiesced ?? []).flatMap((server) => {
        const restarts = realServers.get(server.address);
        return restarts !== undefined && restarting.has(restarts) && !keys.has(serverKey(server)) ? [{ server, restarts }] : [];
      });
      for (const { server } of kept) keys.add(serverKey(server));
      // A kept server is waited for whole, which takes in its old method's connections.
      const switched = switchedServers(changes).filter(({ server }) => !keys.has(serverKey(server)));
      return {
        host,
        servers: [...leaving, ...kept.map(({ server }) => server), ...switched.map(({ server }) => server)],
        ...(kept.length > 0 ? { kept } : {}),
        ...(switched.length > 0 ? { switched } : {}),
      };
    })
    .filter((drain) => drain.servers.length > 0);
}

/** Each host's waits within balance, from its changes marked to await a release, a VIP once. */
export function takeovers(plans: readonly HostPlan[]): Takeover[] {
  return plans.flatMap(({ host, changes }) => {
    const waits = new Map(changes.flatMap((change) => (change.awaitsRelease ? [[change.awaitsRelease.address, change.awaitsRelease.from] as const] : [])));
    return [...waits].map(([address, from]) => ({ host, address, from }));
  });
}
