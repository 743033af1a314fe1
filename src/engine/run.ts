import type { CompiledRun, CompiledTask } from '../config/compile.js';
import { CHANGE_PHASES, type ChangePhase, type ClusterView, type RealServerRef } from '../resources/types.js';
import { handshakeGate } from '../transport/handshake-gate.js';
import { connectionClock } from '../transport/ssh-client.js';
import { JumpPool, openSession } from '../transport/ssh-session.js';
import type { ConnectionTarget, ConnectOptions, HostSession } from '../transport/types.js';
import type { EventSink, HostResult } from './events.js';
import { gatewayMoveBlocked, handoverBlocked, rerouteBlocked, retireBlocked, withheldAddresses, type HostStanding } from './hold-back.js';
import { HostRun, type HostRunOptions } from './host-run.js';
import { lockAll } from '../lock/lock-all.js';
import type { LockWait } from '../lock/lock-script.js';
import { forEachLimited } from './pool.js';
import { directsTraffic, vipHandovers, vipTakeovers } from './vip-handover.js';
import { vipsMovingAway } from './vrrp-moves.js';
import { VipReleases } from './vip-release.js';
import { drains, forwardingSwitches, leavingServers, planWaves, reroutedHosts, serverKey, takenOver, type WavePlan } from './wave-plan.js';
import { changesIn, phaseRank } from './host-plan.js';
import { DEFAULT_DRAIN_TIMEOUT } from './drain-timeout.js';
import { MachineRegistry } from './machine-identity.js';
import { peersToRetire, RETIRED_WITH_PEER } from './retire-peers.js';
import { claimsOutsideTheRun } from './vip-claims.js';
import { turnsOf, WaveTurns } from './turns.js';

// The ordered apply: read every host (one exec each, which takes its lock), plan every host, then
// apply wave by wave - prepare, balance, reroute, (drain), withdraw, retire - every host of a wave in
// parallel, at most `forks` at a time. A failed or unreachable host never stops the others, but
// what depends on it waits: directors do not add its real servers, and real servers keep their
// VIP while a director that may still send to them failed. An unchanged host is done after its
// read; a first interrupt lets the running wave finish and starts no other.

export interface WaveOptions extends HostRunOptions {
  /**
   * Hosts handled at once; default every host. Connection set-up is limited apart from this, by
   * the handshake gate (see transport/handshake-gate.ts), so many hosts at once cost no more CPU.
   */
  readonly forks?: number;
  /** Seconds a director waits for leaving real servers to drain; 0 deletes them without waiting. Default 300. */
  readonly drainTimeout?: number;
  /** VRRP peers the operator says run no keepalived any more (--stopped-peer): a director may drop them. */
  readonly stoppedPeers?: readonly string[];
}

export interface RunOptions extends ConnectOptions, WaveOptions {}

export interface RunSummary {
  readonly results: readonly HostResult[];
  readonly jumpConnections: number;
  /** The waves as planned (in check mode) or as run, with the drains after balance. */
  readonly plan: WavePlan;
  readonly drainTimeout: number;
  /**
   * The handshake gate: the limit it started at and the most it may widen to, the widest it was,
   * and the most handshakes that were in flight at once.
   */
  readonly handshakes: { readonly limit: number; readonly ceiling: number; readonly widest: number; readonly peak: number };
  /** Milliseconds from process start to the first connection attempt; none without one. */
  readonly firstConnectionMs?: number;
}

/** `targets`: how to reach a host; the run's hosts, and a host no play reaches when the run opens it (retire-peers.ts). */
export async function runAll(
  run: CompiledRun,
  targets: (host: string) => ConnectionTarget | undefined,
  options: RunOptions,
  emit: EventSink,
): Promise<RunSummary> {
  const jumps = new JumpPool(options);
  try {
    const connect = (host: string): Promise<HostSession> => {
      const target = targets(host);
      if (!target) throw new Error(`no connection settings for ${host}`);
      return openSession(target, options, jumps);
    };
    const summary = await runWaves(run, connect, options, emit);
    const first = connectionClock.firstAttemptMs;
    return { ...summary, jumpConnections: jumps.connections, handshakes: { limit: handshakeGate.limits.floor, ceiling: handshakeGate.limits.ceiling, widest: handshakeGate.widest, peak: handshakeGate.peak }, ...(first !== undefined ? { firstConnectionMs: first } : {}) };
  } finally {
    jumps.close();
  }
}

/** The whole run over any transport: `connect` opens one host's session. */
export async function runWaves(
  run: Pick<CompiledRun, 'hosts' | 'realServers' | 'hostAddresses' | 'vrrpAddresses' | 'unplayed' | 'vipDirectors'>,
  connect: (host: string) => Promise<HostSession>,
  options: WaveOptions,
  emit: EventSink,
): Promise<Omit<RunSummary, 'jumpConnections' | 'handshakes' | 'firstConnectionMs'>> {
  const drainTimeout = options.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT;
  const cluster = clusterView(run, options.stoppedPeers ?? [], !(options.keepUndeclared ?? false));
  const vipDirectors = run.vipDirectors ?? new Map<string, readonly string[]>();
  // A check takes no lock: its reads say which machine they ran on instead (machine-identity.ts).
  const machines = options.check ? new MachineRegistry() : undefined;
  const hostOptions: HostRunOptions = { ...options, ...(cluster ? { cluster } : {}), ...(machines ? { machines } : {}) };
  const runs = [...run.hosts].map(([host, tasks]) => new HostRun(host, tasks, hostOptions, emit));
  const forks = options.forks ?? runs.length;
  // A director that drains a server it keeps at weight 0 may have nothing else to do after the
  // read or balance: it stays open for the drain, which runs after reroute.
  let drainers = new Set<string>();
  const awaitsDrain = (host: HostRun, after: ChangePhase | undefined): boolean => drainers.has(host.host) && (after === undefined || phaseRank(after) < phaseRank('reroute'));
  const finishIdle = (after: ChangePhase | undefined): void => {
    for (const host of runs) if (!host.done && (!host.live || options.check || (!host.hasChangesAfter(after) && !awaitsDrain(host, after)))) host.finish();
  };

  const lock = options.check ? undefined : options.lock;
  const open = async (hosts: readonly HostRun[]): Promise<void> => {
    if (lock) {
      // A run holds every host it read until its last wave: lockAll keeps two such runs from ever
      // waiting for each other.
      const locking = hosts.map((host) => ({ read: (wait: LockWait, timeout: number) => host.open(() => connect(host.host), wait, timeout), release: () => host.releaseLock() }));
      await lockAll(locking, { forks, timeoutSeconds: lock.timeoutSeconds, ...(options.interrupt ? { signal: options.interrupt } : {}) });
      for (const host of hosts) host.stopUnread();
    } else {
      await forEachLimited(hosts, forks, async (host) => {
        await host.open(() => connect(host.host));
      });
    }
  };
  await open(runs);
  // A VRRP peer the directors drop whose host no play reaches: opened to stop its keepalived (retire-peers.ts).
  for (;;) {
    const changes = runs.filter((host) => host.live).flatMap((host) => host.changes);
    // The hosts outside the plays are listed only once a config drops a peer: most runs drop none.
    const retirable = changes.some((change) => change.vrrpPeers !== undefined) ? cluster?.retirable : undefined;
    const peers = retirable && cluster ? peersToRetire(changes, cluster.hostAt, retirable, new Set(runs.map((host) => host.host))) : [];
    if (peers.length === 0 || options.interrupt?.aborted || options.abort?.aborted) break;
    const added = peers.map((host) => new HostRun(host, [], { ...hostOptions, retireOnly: RETIRED_WITH_PEER }, emit));
    runs.push(...added);
    if (lock) {
      // Wait-die only holds while one lockAll takes every lock of the run: the locks held give way
      // and are all taken again, with the peers' (each host read again under its lock).
      await forEachLimited(runs.filter((host) => host.live), forks, (host) => host.releaseLock());
      await open(runs);
    } else await open(added);
  }
  for (const [host, reason] of claimsOutsideTheRun(runs.filter((host) => host.live))) runs.find((entry) => entry.host === host)?.refuse(reason);
  // A real server whose forwarding a director switches takes its default route in the reroute wave.
  const switches = forwardingSwitches(runs.filter((host) => host.live));
  for (const host of reroutedHosts(runs.filter((host) => host.live), run.realServers)) runs.find((entry) => entry.host === host)?.reroute();
  // Each new holder of a moved VIP, with the directors it waits for: kept from this first plan on,
  // so that one that failed in prepare is still waited for (and has not let the VIP go).
  const takeovers = new Map<string, Map<string, string[]>>();
  handOver(runs, takeovers, vipDirectors);
  const planned = planWaves(runs.filter((host) => host.live), run.realServers);
  drainers = new Set(planned.drains.map((drain) => drain.host));
  finishIdle(undefined);
  if (options.check) return { results: runs.map((host) => host.finish()), plan: planned, drainTimeout };

  // After an interrupt no wave starts (each host records where it stopped), so nothing is held back.
  const interrupted = (): boolean => Boolean(options.interrupt?.aborted || options.abort?.aborted);
  for (const phase of CHANGE_PHASES) {
    if (phase === 'balance' && !interrupted()) {
      const withheld = withheldAddresses(run.realServers, standings(runs));
      for (const host of runs) host.withhold(withheld);
      // Again with the hosts still live: a replanned director, or a new holder that failed in prepare.
      handOver(runs, takeovers, vipDirectors);
    }
    if (phase === 'reroute' && !interrupted()) {
      const moving = runs.filter((host) => host.live && host.movesGateway).map((host) => host.host);
      const now = standings(runs);
      const blocked = new Map([...gatewayMoveBlocked(moving, now), ...rerouteBlocked(switches, run.realServers, now)]);
      for (const [host, reason] of blocked) runs.find((entry) => entry.host === host)?.holdBackWave('reroute', reason);
    }
    if (phase !== 'prepare' && !interrupted()) {
      // A director's keepalived that stops advertising to a peer (a config without it) or dies
      // without a last advert (a hand-over) waits while that peer's host failed before its own
      // keepalived stopped: the peer would take the VIPs as a second master.
      const now = standings(runs, phase, phase === 'retire' ? undrained(runs, run.realServers) : undefined);
      const peers = run.vrrpAddresses ?? run.hostAddresses ?? new Map<string, string>();
      const blocked = new Map([...handoverBlocked(now, peers), ...(phase === 'retire' ? retireBlocked(run.realServers, now, run.hostAddresses) : [])]);
      for (const [host, reason] of blocked) runs.find((entry) => entry.host === host)?.holdBackWave(phase, reason);
    }
    const wave = runs.filter((host) => host.live && host.hasPhase(phase));
    if (wave.length > 0) {
      emit({ type: 'wave-start', phase, hosts: wave.map((host) => host.host) });
      // A moved VIP: its new holder's second exec waits for the old holders' removals (vip-handover.ts).
      // It runs beside the pool, not in a slot of it: two directors that swap VIPs each wait for the other.
      const releases = phase === 'balance' ? new VipReleases() : undefined;
      const takeOvers: Promise<void>[] = [];
      for (const host of runs) if (releases && !wave.includes(host)) releases.close(host.host);
      const turns = new WaveTurns();
      await forEachLimited(wave, forks, async (host) => {
        await turns.run(
          host.host,
          turnsOf(changesIn(host.changes, phase)),
          async () => {
            await host.applyWave(phase, releases);
            return host.stoppedAs === undefined ? 'ok' : 'failed';
          },
          (reason) => host.holdBackWave(phase, reason),
        );
        if (!releases) return;
        releases.close(host.host);
        takeOvers.push(host.takeOver(releases));
      });
      await Promise.all(takeOvers);
    }
    // With --drain-timeout 0 the drain is one look: it waits for nothing, and counts what the deletion cuts.
    if (phase === 'reroute') {
      // Planned again with the hosts still live: a real server that failed restarts nothing.
      const live = runs.filter((host) => host.live);
      const draining = drains(live, run.realServers).flatMap((drain) => live.filter((host) => host.host === drain.host).map((host) => ({ host, servers: drain.servers })));
      // A VIP another director announced in balance reaches this one no more: see drain-script.ts.
      await forEachLimited(draining, forks, ({ host, servers }) => host.drain(servers, drainTimeout, takenOver(live, host.host)));
    }
    finishIdle(phase);
  }
  const results = runs.map((host) => host.finish());
  return { results, plan: planWaves(results.map((result, index) => ({ ...result, quiesced: runs[index]?.quiesced ?? [] })), run.realServers), drainTimeout };
}

/** One host alone through every wave (what a run of one host does). */
export async function runHost(host: string, tasks: readonly CompiledTask[], connect: () => Promise<HostSession>, options: HostRunOptions, emit: EventSink): Promise<HostResult> {
  const summary = await runWaves({ hosts: new Map([[host, tasks]]), realServers: new Map() }, connect, { forks: 1, ...options }, emit);
  return summary.results[0] as HostResult;
}

/** The run's hosts and the addresses the inventory knows them by, for planners that look past their host. */
function clusterView(run: Pick<CompiledRun, 'hosts' | 'vrrpAddresses' | 'unplayed'>, stoppedPeers: readonly string[], prunes: boolean): ClusterView | undefined {
  if (!('vrrpAddresses' in run)) return undefined;
  // Made when a planner first asks: only a director whose keepalived drops a peer does.
  let inRun: ReadonlySet<string> | undefined;
  return {
    get hostAt() {
      return run.vrrpAddresses ?? new Map<string, string>();
    },
    get inRun() {
      inRun ??= new Set(run.hosts.keys());
      return inRun;
    },
    get retirable() {
      return run.unplayed;
    },
    stoppedPeers: new Set(stoppedPeers),
    prunes,
  };
}

/**
 * A VIP that moves between directors: the old one lets it go, and the new one takes it once it
 * did (vip-handover.ts). `takeovers` gathers each new holder's old holders across calls.
 */
function handOver(runs: readonly HostRun[], takeovers: Map<string, Map<string, string[]>>, vipDirectors: ReadonlyMap<string, readonly string[]>): void {
  const live = runs.filter((host) => host.live);
  const handovers = vipHandovers(live.map((host) => ({ host: host.host, changes: host.changes, directs: directsTraffic(host.tasks.map((task) => task.type), host.changes) })));
  for (const [host, vips] of vipTakeovers(handovers)) {
    const known = takeovers.get(host) ?? new Map<string, string[]>();
    for (const [address, from] of vips) known.set(address, [...new Set([...(known.get(address) ?? []), ...from])]);
    takeovers.set(host, known);
  }
  // A keepalived pair's VIP moving to another pair: no announce to pair it with (keepalived takes
  // it on the new pair), only the inventory's directors of each VIP and who is still live.
  const away = vipsMovingAway(live.map((host) => ({ host: host.host, keepalived: host.tasks.some((task) => task.type === 'keepalived') })), vipDirectors);
  for (const host of live) host.handOver(new Map([...(away.get(host.host) ?? []), ...(handovers.get(host.host) ?? [])]), takeovers.get(host.host) ?? new Map());
}

/**
 * What a director has yet to drain (`kept`: at weight 0 for a restart; `switched`: a forwarding
 * switch's old connections; `unmarked`: connections through addresses its marks left).
 */
interface Undrained {
  readonly kept: readonly RealServerRef[];
  readonly switched: readonly RealServerRef[];
  readonly unmarked: readonly RealServerRef[];
}

/** Per director: the servers it keeps and drains for a restart, a forwarding switch or its marks, but for those it drained already. */
function undrained(runs: readonly HostRun[], realServers: ReadonlyMap<string, string>): Map<string, Undrained> {
  const planned = runs.filter((host) => host.planned);
  return new Map(
    drains(planned, realServers).map((drain) => {
      const done = new Set(planned.find((host) => host.host === drain.host)?.drains.map(serverKey) ?? []);
      const left = (servers: readonly RealServerRef[]): RealServerRef[] => servers.filter((server) => !done.has(serverKey(server)));
      return [drain.host, { kept: left((drain.kept ?? []).map(({ server }) => server)), switched: left((drain.switched ?? []).map(({ server }) => server)), unmarked: left(drain.unmarked ?? []) }];
    }),
  );
}

/** Every host's standing; `vrrpPeers` are those of its changes in `phase`; `pending`: undrained. */
function standings(runs: readonly HostRun[], phase: ChangePhase = 'retire', pending?: ReadonlyMap<string, Undrained>): HostStanding[] {
  return runs.map((host) => ({
    host: host.host,
    ...(host.stoppedAs ? { stopped: host.stoppedAs } : {}),
    planned: host.planned,
    // A host that was a director and now only prunes its services still sends until it withdrew them.
    director: isDirector(host.tasks) || leavingServers(host.changes).length > 0,
    leaving: leavingServers(host.changes),
    ...(pending?.get(host.host)?.kept.length ? { kept: pending.get(host.host)?.kept } : {}),
    ...(pending?.get(host.host)?.switched.length ? { switched: pending.get(host.host)?.switched } : {}),
    ...(pending?.get(host.host)?.unmarked.length ? { unmarked: pending.get(host.host)?.unmarked } : {}),
    vrrpPeers: changesIn(host.changes, phase).flatMap((change) => change.vrrpPeers ?? []),
  }));
}

function isDirector(tasks: readonly CompiledTask[]): boolean {
  return tasks.some((task) => task.type === 'ipvs');
}
