import type { RealServerRef } from '../resources/types.js';

// What one host's failure holds back on the others, pure. A director never adds a real server
// whose host failed to prepare (or could not be reached): its VIP, tunnel or web server may be
// missing, and every request sent there would fail. A real server keeps its VIP and ARP state
// while a director that may still send to it failed before withdrawing it.

/** A host's standing once a wave ended, as the hold-back rules need it. */
export interface HostStanding {
  readonly host: string;
  /** Why it takes part in no more waves: failed, unreachable or interrupted so far; undefined while it does. */
  readonly stopped?: 'failed' | 'unreachable' | 'interrupted';
  /** Its plan is known (it was read and planned). */
  readonly planned: boolean;
  /** It has IPVS tasks: a director. */
  readonly director: boolean;
  /** Real servers it planned to quiesce and delete. */
  readonly leaving: readonly RealServerRef[];
  /** Real servers it keeps at weight 0 and has yet to drain before their host restarts its daemon (wave-plan.ts). */
  readonly kept?: readonly RealServerRef[];
  /** Real servers whose forwarding method it switched and whose old method's connections it has yet to drain. */
  readonly switched?: readonly RealServerRef[];
  /** Real servers of a fwmark service whose connections to addresses its marks leave it has yet to drain (`vips`: those addresses). */
  readonly unmarked?: readonly RealServerRef[];
  /** The VRRP peers of a keepalived it hands over to lvsprov's tasks in its retire wave. */
  readonly vrrpPeers?: readonly string[];
}

/** Real-server addresses served by hosts that are not ready, each with the reason. */
export function withheldAddresses(realServerHosts: ReadonlyMap<string, string>, standings: readonly HostStanding[]): Map<string, string> {
  const stopped = new Map(standings.flatMap((standing) => (standing.stopped ? [[standing.host, standing.stopped] as const] : [])));
  const withheld = new Map<string, string>();
  for (const [address, host] of realServerHosts) {
    const why = stopped.get(host);
    if (why) withheld.set(address, `${host} (${address}) ${why === 'unreachable' ? 'was unreachable' : why} before the directors would add it or send it new connections`);
  }
  return withheld;
}

/**
 * Real-server hosts whose retire wave must wait, each with the reason. `hostAddresses` (every
 * inventory host by its address) finds the host of a leaving server, which the inventory no longer
 * lists as a real server: its VIP must stay while a failed director may still send to it.
 */
export function retireBlocked(realServerHosts: ReadonlyMap<string, string>, standings: readonly HostStanding[], hostAddresses: ReadonlyMap<string, string> = new Map()): Map<string, string> {
  const blocked = new Map<string, string>();
  // A host stopped before its plan was known is a director by the inventory's tasks alone, and a
  // director whose role this run drops has none: its read would have said what its table still
  // holds. Unless the inventory makes it a real server, it may still send, as a director may.
  const servers = new Set(realServerHosts.values());
  const mayDirect = (standing: HostStanding): boolean => standing.director || (!standing.planned && standing.stopped !== undefined && !servers.has(standing.host));
  const directors = new Set(standings.flatMap((standing) => (mayDirect(standing) ? [standing.host] : [])));
  for (const director of standings.filter((standing) => standing.stopped && mayDirect(standing))) {
    const why = director.stopped === 'unreachable' ? 'was unreachable' : director.stopped;
    if (!director.planned) {
      for (const [address, host] of realServerHosts) if (!blocked.has(host)) blocked.set(host, `director ${director.host} ${why} before its plan was known; it may still send to ${address}`);
      // A host the inventory no longer lists as a real server may still be in that director's
      // table, and a router may still route its VIPs to it: which, its read would have said. Every
      // host but the directors waits.
      for (const [address, host] of hostAddresses) {
        if (!blocked.has(host) && !directors.has(host)) blocked.set(host, `director ${director.host} ${why} before its plan was known, so what its table and VIPs still need of ${host} (${address}) is not known`);
      }
      continue;
    }
    for (const { address } of director.leaving) {
      const host = realServerHosts.get(address) ?? hostAddresses.get(address);
      if (host !== undefined && !blocked.has(host)) blocked.set(host, `director ${director.host} ${why} before it withdrew ${address}`);
    }
    // A restart under the connections a failed drain left open would cut them.
    for (const { address } of director.kept ?? []) {
      const host = realServerHosts.get(address);
      if (host !== undefined && !blocked.has(host)) blocked.set(host, `director ${director.host} ${why} before it drained ${address}, which it keeps at weight 0, for the restart`);
    }
    // The old method's setup carries the connections the switch left on it.
    for (const { address } of director.switched ?? []) {
      const host = realServerHosts.get(address);
      if (host !== undefined && !blocked.has(host)) blocked.set(host, `director ${director.host} ${why} before it drained the connections it made to ${address} by its old forwarding method`);
    }
    // The address its marks left still carries the connections made through it before.
    for (const { address, vips = [] } of director.unmarked ?? []) {
      const host = realServerHosts.get(address);
      if (host !== undefined && !blocked.has(host)) blocked.set(host, `director ${director.host} ${why} before it drained the connections it sent to ${address} through ${vips.join(', ')}, which its firewall marks left`);
    }
  }
  return blocked;
}

/**
 * Directors whose retire wave must wait, each with the reason: it kills its keepalived to hand
 * the VIPs over to lvsprov (see keepalived/handover.ts) while a VRRP peer's host failed or was
 * unreachable before that peer's keepalived stopped. The peer, still running, would take the VIPs
 * three adverts later, and both directors would hold them. `hostAddresses` finds the peers' hosts.
 */
export function handoverBlocked(standings: readonly HostStanding[], hostAddresses: ReadonlyMap<string, string>): Map<string, string> {
  const stopped = new Map(standings.flatMap((standing) => (standing.stopped ? [[standing.host, standing.stopped] as const] : [])));
  const blocked = new Map<string, string>();
  for (const standing of standings) {
    for (const address of standing.vrrpPeers ?? []) {
      const peer = hostAddresses.get(address);
      const why = peer === undefined ? undefined : stopped.get(peer);
      if (why === undefined || blocked.has(standing.host)) continue;
      blocked.set(standing.host, `its VRRP peer ${peer} (${address}) ${why === 'unreachable' ? 'was unreachable' : why} before its keepalived stopped, and would take the VIPs kept here`);
    }
  }
  return blocked;
}

/**
 * Hosts whose replies move to another director gateway in the reroute wave (Change.movesGateway),
 * each with the reason they must wait: a director stopped before it, so the new gateway, which a
 * director may add only in balance, may be held by nobody. The old gateway still works.
 */
export function gatewayMoveBlocked(moving: readonly string[], standings: readonly HostStanding[]): Map<string, string> {
  const director = standings.find((standing) => standing.director && standing.stopped !== undefined);
  if (director === undefined) return new Map();
  const why = director.stopped === 'unreachable' ? 'was unreachable' : director.stopped;
  return new Map(moving.map((host) => [host, `director ${director.host} ${why} before the reroute wave: the gateway its replies move to may be held by nobody`]));
}

/**
 * Real-server hosts whose reroute wave must wait, each with the reason: a director that was to
 * switch their forwarding stopped (before or during balance), so it may still send by the old
 * method, whose replies need the old route. `switches`: address -> the switching directors.
 */
export function rerouteBlocked(switches: ReadonlyMap<string, readonly string[]>, realServerHosts: ReadonlyMap<string, string>, standings: readonly HostStanding[]): Map<string, string> {
  const stopped = new Map(standings.flatMap((standing) => (standing.stopped ? [[standing.host, standing.stopped] as const] : [])));
  const blocked = new Map<string, string>();
  for (const [address, directors] of switches) {
    const host = realServerHosts.get(address);
    const director = directors.find((name) => stopped.has(name));
    if (host === undefined || director === undefined || blocked.has(host)) continue;
    blocked.set(host, `director ${director} ${stopped.get(director) === 'unreachable' ? 'was unreachable' : stopped.get(director)} before it switched ${address}'s forwarding`);
  }
  return blocked;
}
