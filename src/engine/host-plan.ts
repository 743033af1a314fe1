import type { CompiledTask } from '../config/compile.js';
import { ProbeError } from '../errors.js';
import { CHANGE_PHASES, type AnyResourceType, type ChangePhase, type HostContext, type ResourceNote } from '../resources/types.js';
import { resourceTypes } from '../resources/registry.js';
import type { SectionResult } from './batch-script.js';
import type { PlannedChange } from './events.js';
import { taskPlanners, type RunMode, type TaskPlanner } from './planners.js';
import { newNonce } from './batch-script.js';
import { hostOwnership, type HostOwnership } from '../ownership/host-ownership.js';
import { sealWithManifest } from '../ownership/seal.js';
import { probeOf } from '../resources/probe-of.js';
import { awaitReleases, handOverRemovals } from './vip-handover.js';
import { withMarkVips } from './mark-vips.js';
import { declaredServices } from './kept-quiesced.js';
import { fwmark, gainingMarks, specMarks, type FwmarkSpec } from '../resources/fwmark.js';
import { realServerName, selector, type VirtualService } from '../resources/ipvs/model.js';

// The pure middle of a host's pipeline: which probes one read must run, and the plan computed
// from their output, every change in the wave it runs in. apply, reset and status all read and
// plan through this, so a host's plan means the same thing whichever command asked for it.
// Planning again from the same read (with real servers withheld) costs no round trip.

export interface HostReadPlan {
  readonly planners: readonly TaskPlanner[];
  /** Distinct probe scripts, in the order of the read script's sections; the last reads the ownership manifest. */
  readonly probes: readonly string[];
  readonly mode: RunMode;
  /** What lvsprov made on the host: read with the tasks' facts, pruned after them (see ownership/). */
  readonly ownership: HostOwnership;
  /**
   * Probes the read does not run whose paths its prefetch reads too: a reset plans no task, but
   * the objects its recorded probes read are mostly the ones the playbook declares, and a recorded
   * probe finds a path the prefetch read without a program of its own (ownership/manifest.ts).
   */
  readonly alsoPrefetch: readonly string[];
}

/** `token` marks the manifest's probe sections; a fresh random one unless a test fixes it. */
/** `retireOnly`: the recorded objects a host outside the plays is opened to remove, and nothing else. */
export function hostReadPlan(tasks: readonly CompiledTask[], mode: RunMode, token: string = newNonce(), keepUndeclared = false, retireOnly?: readonly string[]): HostReadPlan {
  const planners = taskPlanners(tasks, mode);
  const ownership = hostOwnership(tasks, mode, token, keepUndeclared, retireOnly);
  const declared = mode === 'reset' ? tasks.map((task) => probeOf(resourceTypes[task.type] as AnyResourceType, task.spec)) : [];
  return { planners, ownership, probes: [...new Set([...planners.map(({ type, task }) => probeOf(type, task.spec)), ownership.probe])], mode, alsoPrefetch: declared };
}

/**
 * Where a change without a phase runs. apply adds state, which real servers need before any
 * director sends to them; reset removes it, which must wait until the directors let go.
 */
export function defaultPhase(mode: RunMode): ChangePhase {
  return mode === 'reset' ? 'retire' : 'prepare';
}

export const phaseRank = (phase: ChangePhase): number => CHANGE_PHASES.indexOf(phase);

export function phaseOf(change: { readonly phase?: ChangePhase }): ChangePhase {
  return change.phase ?? 'prepare';
}

/**
 * Plan every task against the sections its probes produced (section i = probes[i]). Later tasks
 * are planned against the state earlier ones predict, so no second read is needed. Every change
 * gets its phase; they come sorted by wave, in task order within a wave. Then what the manifest
 * records and no task declares is removed (in the withdraw or retire wave), and the manifest is
 * written by the host's last change. Throws ProbeError naming the task whose facts could not be
 * read or planned.
 */
export function planHost(read: HostReadPlan, sections: ReadonlyMap<number, SectionResult>, context: HostContext): PlannedChange[] {
  const changes: PlannedChange[] = [];
  const predicted = new Map<string, unknown>();
  const installing = new Set<string>();
  const changed = new Set<string>();
  const manifest = sections.get(read.probes.indexOf(read.ownership.probe));
  const marking = read.planners.some(({ type }) => type === fwmark);
  // The virtual services the host declares, read once for the marks' planning and their drains.
  let declared: VirtualService[] | undefined;
  const servicesDeclared = (): VirtualService[] => (declared ??= declaredServices(read.planners.map(({ task }) => task)));
  const markServers = marking ? directServersByMark(servicesDeclared()) : undefined;
  const gaining = marking && context.withheld?.size ? marksGainingAddresses(read, sections) : undefined;
  const planning: HostContext = { ...context, installing, changed, recorded: recordedIds(read.ownership, manifest), ...(markServers ? { markServers } : {}), ...(gaining ? { gainingMarks: gaining } : {}) };
  for (const { task, type, plan, after } of read.planners) {
    const key = `${type.name}:${type.key(task.spec)}`;
    const section = sections.get(read.probes.indexOf(probeOf(type, task.spec)));
    try {
      const facts = predicted.has(key) ? predicted.get(key) : type.parse(section ?? { stdout: '', status: 255 }, task.spec);
      for (const change of plan(facts, planning)) {
        changes.push({ ...change, phase: change.phase ?? defaultPhase(read.mode), task: task.name, ...(task.role ? { role: task.role } : {}) });
        changed.add(change.resource);
      }
      predicted.set(key, after(facts, planning));
      if (read.mode === 'apply') for (const name of type.provides?.(task.spec) ?? []) installing.add(name);
    } catch (error) {
      throw new ProbeError(`task "${task.name}": ${(error as Error).message}`);
    }
  }
  try {
    // The prune sees which objects the declared tasks changed: a removal planned against their
    // predicted facts leaves those to them (prune.ts).
    const owned = read.ownership.plan(sections.get(read.probes.indexOf(read.ownership.probe)), predicted, { ...context, changed });
    changes.push(...owned.prunes);
    if (context.rerouting) rerouteDefault(changes, natRepliesRouted(read, changes));
    else {
      deferGatewayMoves(changes);
      if (read.mode === 'apply' && servesDirectReplies(read, changes) && natRepliesRouted(read, changes)) keepDirectRepliesOffDirector(changes);
    }
    if (context.handingOver) handOverRemovals(changes, context.handingOver);
    if (context.takingOver) awaitReleases(changes, context.takingOver);
    // A stable sort: within one wave, changes keep the order their tasks gave them (but for the
    // quiesces, below). The manifest
    // then rides on the last change the host runs, so it is written only once all ran.
    const declaredMarks = read.planners.flatMap(({ type, task }) => (type === fwmark ? specMarks(task.spec as FwmarkSpec) : []));
    const services = changes.some((change) => change.marks) ? servicesDeclared() : [];
    const serving = markedServicesServing(services, changes);
    const sorted = withMarkVips(changes, declaredMarks, services)
      .map((change, index) => ({ change, index }))
      .sort((a, b) => phaseRank(phaseOf(a.change)) - phaseRank(phaseOf(b.change)) || balanceStep(a.change, serving) - balanceStep(b.change, serving) || a.index - b.index)
      .map(({ change }) => change);
    return sealWithManifest(sorted, owned.manifest, (manifest) => ({ ...manifest, phase: 'prepare' as const, task: 'record what lvsprov made' }), owned.interim, execOf);
  } catch (error) {
    throw error instanceof ProbeError ? error : new ProbeError((error as Error).message);
  }
}

/**
 * Within a director's balance changes: first the removal of a VIP another director takes over in
 * this run (HostContext.handingOver), then every IPVS service and real server that is to take
 * new connections (added, edited), then the VIPs those services answer on, then the firewall
 * marks that steer connections between services (`steers`), then the VIPs' gratuitous ARP, and
 * last the quiesce of each leaving real server, and the edit of each one that stays at weight 0
 * (`quiets`): nothing stops taking new connections before what replaces it is in place. In task
 * order, a fwmark service pruned for port services was quiesced before its marks went, a VIP's
 * marks dropped for port services went before those were added, and a fwmark service's only
 * server went to weight 0 before the marks moved its VIP's port to a port service: each new
 * connection in between was refused. The announce sends at once
 * (address.ts), so the router comes only once the VIP's marks are there too. A VIP this director
 * takes over from another (HostContext.takingOver) is added and announced after everything else,
 * in a second exec that waits until the old holder let it go (vip-handover.ts): the quiesces
 * before it, which only touch servers that are replaced or leave, are not held up by the wait.
 *
 * But where the marks change, a leaving server of a fwmark service that keeps a steady server
 * (`serving`: one that takes new connections before the run and after it, as it did) is quiesced
 * before them: the marks may give the service an address the leaving server's host never had
 * (only the service's servers after the run hold it), and quiesced after them, it took new
 * connections to that address in between, which its host dropped. The steady server holds every
 * address the service has before the marks change and after it, and takes its share meanwhile.
 */
function balanceStep(change: PlannedChange, serving: ReadonlySet<string>): number {
  if (phaseOf(change) !== 'balance') return 0;
  // A VIP another director takes over in this run leaves before anything else (vip-handover.ts).
  if (change.handedOver) return -1;
  if (change.awaitsRelease) return 6;
  // A server that stays at weight 0 stops taking new connections as a leaving one does.
  const quieted = change.leaving ?? change.quiets;
  if (quieted !== undefined && change.resource.startsWith('ipvs ')) return serving.has(quieted.service.join(' ')) ? 2 : 5;
  if (change.steers === true) return 3;
  if (change.announces !== undefined) return 4;
  return change.resource.startsWith('address ') ? 1 : 0;
}

/** The marks the host's fwmark tasks make cover an address their table as read does not (HostContext.gainingMarks); a section that does not parse gives none. */
function marksGainingAddresses(read: HostReadPlan, sections: ReadonlyMap<number, SectionResult>): Set<number> {
  return new Set(
    read.planners.flatMap(({ type, task }) => {
      if (type !== fwmark) return [];
      const section = sections.get(read.probes.indexOf(probeOf(type, task.spec)));
      try {
        return [...gainingMarks(task.spec as FwmarkSpec, fwmark.parse(section ?? { stdout: '', status: 255 }, task.spec as FwmarkSpec))];
      } catch {
        return [];
      }
    }),
  );
}

/** For each mark of the fwmark services among `services`, the addresses of its DR and TUN servers at a weight above 0 (HostContext.markServers). */
function directServersByMark(services: readonly VirtualService[]): Map<number, string[]> {
  const byMark = new Map<number, string[]>();
  for (const service of services) {
    if (service.protocol !== 'fwmark') continue;
    const direct = service.realServers.filter((server) => server.weight > 0 && server.forwarding !== 'nat').map((server) => server.address);
    byMark.set(service.fwmark, [...new Set([...(byMark.get(service.fwmark) ?? []), ...direct])]);
  }
  return byMark;
}

/**
 * The selectors of the fwmark services among `services` (those the host declares) that keep a
 * steady server: at a weight above 0, and joining in none of `changes` (not added, not brought
 * back from weight 0, not switched to another forwarding method).
 */
function markedServicesServing(services: readonly VirtualService[], changes: readonly PlannedChange[]): Set<string> {
  const joining = new Set(changes.flatMap((change) => (change.joining ? [`${change.joining.service.join(' ')} ${change.joining.server}`] : [])));
  const steady = (service: VirtualService): boolean => service.realServers.some((server) => server.weight > 0 && !joining.has(`${selector(service).join(' ')} ${realServerName(server)}`));
  return new Set(services.filter((service) => service.protocol === 'fwmark' && steady(service)).map((service) => selector(service).join(' ')));
}

/**
 * A real server whose forwarding a director switches between NAT and DR or TUN: its default route
 * (the NAT role's `default via DIP`, or its removal, which puts back the route it replaced) moves.
 * A DR or TUN reply comes from the VIP and must not pass the director (its source is one of the
 * director's own addresses: dropped as a martian); a NAT reply comes from the RIP and must.
 * Where the RIP's replies have a source route of their own through the director (see
 * source-route.ts) for the whole switch (declared, or present until retire removes it), the main
 * default serves DR and TUN alone: it leaves the director before balance (NAT to DR: prepare) and
 * goes to it only after the drain (DR to NAT: retire), and no reply of either method is ever
 * sent the wrong way. Without one, the default changes in the reroute wave right after balance,
 * and a new connection's first answer in between takes the old method's way.
 */
function rerouteDefault(changes: PlannedChange[], natRoute: boolean): void {
  changes.forEach((change, index) => {
    if (change.resource !== DEFAULT_ROUTE) return;
    const phase: ChangePhase = !natRoute ? 'reroute' : phaseOf(change) === 'prepare' ? 'retire' : 'prepare';
    changes[index] = { ...change, phase };
  });
}

/**
 * A real server that serves NAT beside DR or TUN, before this run or after it: its main default
 * goes through the director only while it serves NAT alone (the realserver-nat role's
 * `nat_default_route`), for a DR or TUN reply leaves from the VIP, one of the director's own
 * addresses, and the director drops it as a martian. Its NAT replies have their own route (the
 * source route, kept), so the default leaves the director before any director adds the server to
 * a DR or TUN service (prepare: it was a removal, planned for retire), and comes to the director
 * only once they all let it go (retire: it was planned for prepare). One that moves between
 * director gateways (deferGatewayMoves) keeps the reroute wave.
 */
function keepDirectRepliesOffDirector(changes: PlannedChange[]): void {
  changes.forEach((change, index) => {
    if (change.resource !== DEFAULT_ROUTE) return;
    const phase = phaseOf(change);
    if (phase === 'prepare' || phase === 'retire') changes[index] = { ...change, phase: phase === 'prepare' ? 'retire' : 'prepare' };
  });
}

/** Whether the host has a VIP on lo or tunl0 (a DR or TUN real server's) across this run: declared, or removed only in retire. */
function servesDirectReplies(read: HostReadPlan, changes: readonly PlannedChange[]): boolean {
  const direct = (device: string | undefined): boolean => device === 'lo' || device === 'tunl0';
  const declared = read.planners.some(({ type, task }) => type.name === 'address' && direct((task.spec as { device?: string }).device) && (task.spec as { state?: string }).state !== 'absent');
  return declared || changes.some((change) => /^address \S+ on (lo|tunl0)$/.test(change.resource) && phaseOf(change) === 'retire');
}

/**
 * A real server's replies move from one director gateway to another (Change.movesGateway): in
 * the reroute wave, right after balance. The new gateway may be an address a director adds only
 * there (lvs.ha brought to a NAT cluster: keepalived takes the floating gateway as it starts), and
 * moved in prepare, every reply in between went to an address nobody held; the directors' live
 * connections meanwhile still come through the old one. A forwarding switch has its own order
 * (rerouteDefault).
 */
function deferGatewayMoves(changes: PlannedChange[]): void {
  // The default route goes to the same gateway as the source routes; it moves with them even
  // where no original record tells it was lvsprov's (none when the host had no default before).
  const moving = changes.some((change) => change.movesGateway === true);
  changes.forEach((change, index) => {
    if (phaseOf(change) !== 'prepare') return;
    if (change.movesGateway === true || (moving && change.resource === DEFAULT_ROUTE)) changes[index] = { ...change, phase: 'reroute' };
  });
}

/** Whether the RIP's replies have their own route through the director across this run: declared, or removed only in retire. */
function natRepliesRouted(read: HostReadPlan, changes: readonly PlannedChange[]): boolean {
  const declared = read.planners.some(({ type, task }) => type.name === 'source_route' && (task.spec as { state?: string }).state !== 'absent');
  return declared || changes.some((change) => change.resource.startsWith('source_route ') && phaseOf(change) === 'retire');
}

/** The resource of the default route's changes, which a forwarding switch moves (see rerouteDefault). */
export const DEFAULT_ROUTE = 'route default';

/**
 * What the tasks' `notes` say about the host as read (see ResourceType.notes), each line once. A
 * section that cannot be parsed says nothing here: planHost reports that as the host's error.
 */
export function hostNotes(read: HostReadPlan, sections: ReadonlyMap<number, SectionResult>): ResourceNote[] {
  if (read.mode !== 'apply') return [];
  const notes = read.planners.flatMap(({ task, type }) => {
    if (!type.notes) return [];
    const section = sections.get(read.probes.indexOf(type.probe(task.spec)));
    try {
      return section ? type.notes(task.spec, type.parse(section, task.spec)) : [];
    } catch {
      return [];
    }
  });
  return notes.filter((note, index) => notes.findIndex((other) => other.text === note.text) === index);
}

/** Which exec of its wave a change runs in: a VIP taken over from another director has one of its own (vip-handover.ts). */
export function execOf(change: PlannedChange): string {
  return change.awaitsRelease ? `${phaseOf(change)} after release` : phaseOf(change);
}

/** The changes of one wave, in order. */
export function changesIn(changes: readonly PlannedChange[], phase: ChangePhase): PlannedChange[] {
  return changes.filter((change) => phaseOf(change) === phase);
}

/** What the manifest records, for the task planners; an unreadable manifest stops the host in the ownership plan, with its reason. */
function recordedIds(ownership: HostOwnership, section: SectionResult | undefined): ReadonlySet<string> {
  try {
    return ownership.recorded(section);
  } catch {
    return new Set();
  }
}
