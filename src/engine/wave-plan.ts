import { CHANGE_PHASES, type ChangePhase, type RealServerRef, type Rebinding } from '../resources/types.js';
import type { PlannedChange } from './events.js';
import { changesIn, phaseOf, phaseRank } from './host-plan.js';

// Every host's plan -> the waves of the ordered apply, pure. A wave holds the hosts with changes
// in its phase (they run in parallel); waves run one after the other, and after the reroute wave
// every director with leaving real servers drains them before any withdraw runs. A real server a
// director keeps at weight 0 is drained there too when its host restarts a pool's daemon in
// retire (service.ts): the restart may cut what is still open, as a deletion would. So is a real
// server whose forwarding method a director switched in balance, for the connections it made by
// the old method, before the real server takes that method's setup off in retire. And so is a
// fwmark service's server whose mark stops covering an address the run then takes off a host
// (engine/mark-vips.ts): only its connections to that address, which end with it.

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
  /**
   * Those of `servers` it keeps in a fwmark service whose mark no longer covers addresses a host
   * gives up after balance: only their connections to those addresses (`vips`) are waited for.
   */
  readonly unmarked?: readonly RealServerRef[];
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
 * The servers of a host's changes that its marks leave with addresses some host of `released`
 * gives up after balance, each once, with only those addresses.
 */
export function unmarkedServers(changes: readonly PlannedChange[], released: ReadonlySet<string>): RealServerRef[] {
  const seen = new Map<string, RealServerRef>();
  for (const server of changes.flatMap((change) => change.unmarks ?? [])) {
    const vips = [...new Set([...(seen.get(serverKey(server))?.vips ?? []), ...(server.vips ?? []).filter((vip) => released.has(vip))])];
    if (vips.length > 0) seen.set(serverKey(server), { ...server, vips });
  }
  return [...seen.values()];
}

/** The addresses hosts take off after balance: a director's VIP, a real server's. */
function releasedAfterBalance(plans: readonly HostPlan[]): Set<string> {
  return new Set(plans.flatMap(({ changes }) => changes.flatMap((change) => (phaseRank(phaseOf(change)) > phaseRank('balance') ? (change.releases ?? []) : []))));
}

/** `server` with the VIPs of `more` added, where both name VIPs (a fwmark service's server). */
const withVips = (server: RealServerRef, more: RealServerRef | undefined): RealServerRef =>
  more?.vips && server.vips ? { ...server, vips: [...new Set([...server.vips, ...more.vips])] } : server;

/**
 * Each director's drain: its leaving servers, then those it keeps at weight 0 whose host
 * restarts a pool's daemon in retire, then those whose forwarding method it switches, then those
 * its marks leave with an address a host gives up.
 */
export function drains(plans: readonly HostPlan[], realServers: ReadonlyMap<string, string>): Drain[] {
  const restarting = new Set(plans.filter(({ changes }) => changes.some((change) => change.restartsPool === true && phaseOf(change) === 'retire')).map(({ host }) => host));
  // Read only when some marks leave addresses: most runs change none.
  const released = plans.some(({ changes }) => changes.some((change) => change.unmarks)) ? releasedAfterBalance(plans) : new Set<string>();
  return plans
    .map((plan) => {
      const { host, changes } = plan;
      // A VIP it hands over to another director leaves it first thing in balance: nothing comes here for it to drain.
      const handedOver = new Set(changes.flatMap((change) => (change.handedOver ? (change.releases ?? []) : [])));
      const unmarkedAll = released.size === 0 ? [] : unmarkedServers(changes, new Set([...released].filter((vip) => !handedOver.has(vip))));
      const unmarkedBy = new Map(unmarkedAll.map((server) => [serverKey(server), server]));
      // A leaving server's VIPs are those its marks covered as read too: waited for whole.
      const leaving = leavingServers(changes);
      const keys = new Set(leaving.map(serverKey));
      // Read only when some host restarts: most runs restart none.
      const kept = restarting.size === 0 ? [] : (plan.quiesced ?? []).flatMap((server) => {
        const restarts = realServers.get(server.address);
        return restarts !== undefined && restarting.has(restarts) && !keys.has(serverKey(server)) ? [{ server: withVips(server, unmarkedBy.get(serverKey(server))), restarts }] : [];
      });
      for (const { server } of kept) keys.add(serverKey(server));
      // A kept server is waited for whole, which takes in its old method's connections.
      const switched = switchedServers(changes).filter(({ server }) => !keys.has(serverKey(server)));
      for (const { server } of switched) keys.add(serverKey(server));
      // A switched server's old connections are all it had before balance, where its marks changed too.
      const unmarked = unmarkedAll.filter((server) => !keys.has(serverKey(server)));
      return {
        host,
        servers: [...leaving, ...kept.map(({ server }) => server), ...switched.map(({ server }) => server), ...unmarked],
        ...(kept.length > 0 ? { kept } : {}),
        ...(switched.length > 0 ? { switched } : {}),
        ...(unmarked.length > 0 ? { unmarked } : {}),
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
