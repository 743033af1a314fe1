import type { AnyResourceType, ChangePhase, Change, HostContext, ProbeOutput } from '../resources/types.js';
import type { ManifestEntry, ManifestRead } from './manifest.js';
import { typeNamed, type OwnedRecord } from './records.js';
import { releaseTakenAlong, takenOver } from './held.js';

// Pruning, pure: the objects the manifest records and no task declares any more are removed by
// their type's reset planner, newest first (as a stack unwinds: a web server stops before its page
// goes). Objects lvsprov cannot read back - an unknown type, a spec its schema refuses, a probe
// that is not the one this lvsprov writes - are never touched, only kept on record.

export interface PrunedChange extends Change {
  /** The task that made the object, as the manifest recorded it. */
  readonly task: string;
  readonly role?: string;
}

export interface PrunePlan {
  readonly changes: PrunedChange[];
  /** The manifest once the plan ran: what is declared, and what could not be judged. */
  readonly records: OwnedRecord[];
}

/**
 * IPVS deletions run in the directors' withdraw wave (the ipvs planner marks which real servers
 * leave, so they are drained first); every other removal waits for the retire wave, once no
 * director sends to the host any more.
 */
function prunePhase(type: string, change: Change): ChangePhase {
  return change.phase ?? (type === 'ipvs' ? 'withdraw' : 'retire');
}

/** The entry's spec and facts, when this lvsprov can trust them; undefined otherwise. */
function readable(entry: ManifestEntry): { spec: unknown } | undefined {
  const type = typeNamed(entry.type);
  if (type?.reset === undefined) return undefined;
  const parsed = type.schema.safeParse(entry.spec);
  if (!parsed.success) return undefined;
  if (type.probe(parsed.data) !== entry.probe && type.legacyProbes?.(parsed.data).includes(entry.probe) !== true) return undefined;
  return { spec: parsed.data };
}

/**
 * Newest first, except that addresses go before everything else: a VIP is what traffic reaches,
 * and what guards it (ARP suppression, sysctls, routes) must outlive it, whatever order a role
 * declared them in. Were ARP rules removed first, a leaving real server that still holds the VIP
 * could answer the router's ARP for it, or announce it, and take the VIP's traffic.
 */
function addressesFirst<T extends { type: AnyResourceType }>(removals: readonly T[]): T[] {
  return [...removals.filter((removal) => removal.type.name === 'address'), ...removals.filter((removal) => removal.type.name !== 'address')];
}

/** Removals planned as one: consecutive objects whose type merges their specs. */
interface Group {
  readonly type: AnyResourceType;
  readonly spec: unknown;
  readonly entries: ManifestEntry[];
}

function grouped(removals: ReadonlyArray<{ type: AnyResourceType; spec: unknown; entry: ManifestEntry }>): Group[] {
  const groups: Group[] = [];
  for (const { type, spec, entry } of removals) {
    const last = groups[groups.length - 1];
    const merged = last !== undefined && last.type === type ? type.mergeOwned?.(last.spec, spec) : undefined;
    if (last !== undefined && merged !== undefined) groups[groups.length - 1] = { type, spec: merged, entries: [...last.entries, entry] };
    else groups.push({ type, spec, entries: [entry] });
  }
  return groups;
}

/** What the group's probes printed, as one probe output of its merged spec (equal outputs once). */
function groupOutput(group: Group): ProbeOutput {
  const outputs = [...new Set(group.entries.map((entry) => entry.output.stdout))];
  return { stdout: outputs.join('\n'), status: Math.max(...group.entries.map((entry) => entry.output.status)) };
}

/**
 * `predicted` holds the facts earlier tasks of this host leave (by `type:key`), shared with the
 * host's planner: a save file rewritten by a declared task and then by a removal is planned once
 * against the other's result. It is updated with what the removals leave.
 */
export function planPrune(read: ManifestRead, declared: readonly OwnedRecord[], predicted: Map<string, unknown>, context: HostContext, taskProbes: ReadonlyMap<string, string> = new Map()): PrunePlan {
  const declaredIds = new Set(declared.map((record) => record.id));
  // Facts predicted under a key are reused only by a removal read by the same probe: two sysctl
  // keys of one file share a key but each probe reads only its own key. A task that owns no object
  // (an ipvs task whose every service is absent) predicts its key's facts all the same: its own
  // removals are in them, and the recorded objects must not be removed from the table it read.
  const probes = new Map<string, string>(taskProbes);
  for (const record of declared) {
    const type = typeNamed(record.type);
    if (type !== undefined) probes.set(`${type.name}:${type.key(record.spec)}`, record.probe);
  }
  // What a declared object of another type holds from now on (keepalived: the VIPs and services
  // lvsprov's address and ipvs tasks held) is handed over to it, never removed from under it.
  const handedOver = takenOver(declared);
  const kept: OwnedRecord[] = [];
  const removals: Array<{ type: AnyResourceType; spec: unknown; entry: ManifestEntry }> = [];
  const handovers: Array<{ type: AnyResourceType; spec: unknown; entry: ManifestEntry }> = [];
  for (const entry of [...read.entries].reverse()) {
    if (declaredIds.has(entry.id)) continue;
    const trusted = readable(entry);
    const type = typeNamed(entry.type);
    // Not probed: a manifest changed behind a first line that said nothing was left to probe.
    if (trusted === undefined || type === undefined || !entry.probed) {
      // Recorded again, with this lvsprov's probe where it can make one, so a later run may judge it.
      kept.unshift({ type: entry.type, id: entry.id, spec: entry.spec, probe: refreshedProbe(entry), task: entry.task, ...(entry.role ? { role: entry.role } : {}) });
    } else {
      (handedOver.has(entry.id) ? handovers : removals).push({ type, spec: trusted.spec, entry });
    }
  }
  const changes: PrunedChange[] = [];
  const removing: HostContext = { ...context, declared: declaredIds };
  const groups = [...grouped(addressesFirst(removals)).map((group) => ({ group, planner: group.type.reset })), ...grouped(handovers).map((group) => ({ group, planner: group.type.release }))];
  for (const { group, planner } of groups) {
    const { type, spec } = group;
    const [first] = group.entries;
    if (planner === undefined || first === undefined) continue;
    const key = `${type.name}:${type.key(spec)}`;
    const probe = type.probe(spec);
    let facts: unknown;
    const fromTasks = predicted.has(key) && probes.get(key) === probe;
    try {
      facts = fromTasks ? predicted.get(key) : type.parse(groupOutput(group), spec);
    } catch (error) {
      throw new Error(`reading ${first.id} (made by task "${first.task}") failed: ${(error as Error).message}`);
    }
    // Planned against what the declared tasks leave, a removal that finds its objects gone and
    // would only remake what one of them changed in this run (the save file an ipvs task of no
    // service left rewrites) adds nothing.
    const plannedChanges = planner.plan(spec, facts, removing);
    const redundant = fromTasks && plannedChanges.length > 0 && plannedChanges.every((change) => context.changed?.has(change.resource) === true);
    const planned = (redundant ? [] : plannedChanges).map((change) => ({ ...change, phase: prunePhase(type.name, change), task: first.task, ...(first.role ? { role: first.role } : {}) }));
    changes.push(...planned);
    predicted.set(key, planner.after(spec, facts));
    probes.set(key, probe);
    const last = planned.at(-1);
    if (last !== undefined && planner === type.reset) changes.push(...releaseTakenAlong({ type, spec, phase: last.phase, task: first.task, ...(first.role ? { role: first.role } : {}) }, declaredIds, predicted, removing));
  }
  return { changes, records: [...kept, ...declared] };
}
function refreshedProbe(entry: ManifestEntry): string {
  const type = typeNamed(entry.type);
  const parsed = type?.schema.safeParse(entry.spec);
  return type !== undefined && parsed?.success ? type.probe(parsed.data) : entry.probe;
}
