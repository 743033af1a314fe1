import type { CompiledTask } from '../config/compile.js';
import type { RunMode } from '../engine/planners.js';
import { probeOf } from '../resources/probe-of.js';
import { resourceTypes } from '../resources/registry.js';
import type { AnyResourceType } from '../resources/types.js';
import type { Change, HostContext, ProbeOutput } from '../resources/types.js';
import { EVERY_ENTRY, manifestChange, manifestHeader, manifestProbe, parseManifestRead, type ManifestEntry, type ManifestRead, type ProbedEntries } from './manifest.js';
import { planPrune, type PrunedChange } from './prune.js';
import { declaredRecords, type OwnedRecord } from './records.js';

// What the host planner needs of ownership: one more probe in the read, and after the tasks are
// planned, the removals and the manifest. apply keeps what its tasks own and removes the rest of
// what the manifest records; reset keeps nothing, so it removes everything lvsprov recorded.

export interface HostOwnership {
  readonly probe: string;
  plan(section: ProbeOutput | undefined, predicted: Map<string, unknown>, context: HostContext): OwnershipPlan;
  /** The ids of the objects the manifest records, for the task planners (HostContext.recorded). */
  recorded(section: ProbeOutput | undefined): ReadonlySet<string>;
}

export interface OwnershipPlan {
  readonly prunes: PrunedChange[];
  /** The manifest the host's last change writes: what is left once every removal ran. */
  readonly manifest: Change | undefined;
  /**
   * The manifest every earlier wave's last change writes: everything recorded so far and
   * everything the run declares, so that a run stopped between waves (a failure, an interrupt)
   * leaves no object it made off the record. A record of an object not made, or already removed,
   * costs nothing: its removal plans no change.
   */
  readonly interim: Change | undefined;
}

/**
 * `token` marks the probes' sections in the read (a fresh random one per run, see newNonce).
 * `keepUndeclared`: the run left tasks out (--tags, --skip-tags), so what the manifest records and
 * no task of this run declares may belong to a task left out: apply removes nothing then, and
 * reset removes only what the selected tasks own.
 */
export function hostOwnership(tasks: readonly CompiledTask[], mode: RunMode, token: string, keepUndeclared = false, retireOnly?: readonly string[]): HostOwnership {
  if (retireOnly !== undefined) return retiring(token, retireOnly);
  const selected = declaredRecords(tasks);
  const selectedIds = new Set(selected.map((record) => record.id));
  // An apply that declares every task: a host whose manifest records exactly what it declares has
  // nothing to prune, which the manifest's first line tells without a process.
  const probe = manifestProbe(token, probedEntries(mode, keepUndeclared, [...selectedIds]), mode === 'apply' && !keepUndeclared ? manifestHeader(selected) : undefined);
  const readOnce = manifestReader(token, mode === 'apply' && !keepUndeclared ? selected : undefined);
  return {
    probe,
    recorded: (section) => new Set(readOnce(section).entries.map((entry) => entry.id)),
    plan(section, predicted, context) {
      const read = readOnce(section);
      const recorded = (keep: (entry: ManifestEntry) => boolean): OwnedRecord[] => read.entries.filter(keep).map(recordOf);
      // The manifest's entries in their order, each declared object recorded afresh in its place
      // and new ones at the end, so that a run that changes nothing rewrites nothing.
      const fresh = new Map(selected.map((record) => [record.id, record]));
      const inPlace = recorded(() => true).map((record) => fresh.get(record.id) ?? record);
      const known = new Set(inPlace.map((record) => record.id));
      const everything = [...inPlace, ...selected.filter((record) => !known.has(record.id))];
      if (keepUndeclared && mode === 'apply') return { prunes: [], manifest: manifestChange(read, everything), interim: undefined };
      // What stays: apply keeps what it declares; reset keeps nothing, or, limited to some tasks,
      // everything those tasks do not own.
      const keep = mode === 'apply' ? selected : keepUndeclared ? recorded((entry) => !selectedIds.has(entry.id)) : [];
      const { changes, records } = planPrune(read, keep, predicted, mode === 'apply' ? { ...context, pruning: true } : context, taskProbes(tasks));
      const manifest = manifestChange(read, records);
      // reset makes nothing, so its earlier waves have nothing new to record.
      const interim = mode === 'apply' ? manifestChange(read, everything) : undefined;
      const sameWrite = interim !== undefined && manifest !== undefined && interim.commands.join('\n') === manifest.commands.join('\n');
      return { prunes: changes, manifest, interim: sameWrite ? undefined : interim };
    },
  };
}

/**
 * The probe of each task's key: what its planner's predicted facts were read by (prune.ts). Made
 * when a host's read is planned, not when its read plan is (every host's, before the first connection).
 */
function taskProbes(tasks: readonly CompiledTask[]): Map<string, string> {
  return new Map(
    tasks.flatMap((task) => {
      const type = resourceTypes[task.type] as AnyResourceType | undefined;
      return type === undefined ? [] : [[`${type.name}:${type.key(task.spec)}`, probeOf(type, task.spec)] as const];
    }),
  );
}

/** `declared`: the records a read that found the run's own first line stands for (only an apply of every task asks for that). */
function readManifest(section: ProbeOutput | undefined, token: string, declared?: readonly OwnedRecord[]): ManifestRead {
  try {
    return parseManifestRead(section ?? { stdout: '', status: 255 }, token, declared);
  } catch (error) {
    throw new Error(`ownership manifest: ${(error as Error).message}`);
  }
}

/**
 * readManifest, once per section: a host's read is parsed for the task planners (`recorded`) and
 * again for its own plan, and a host planned again (a later wave) hands the same section back.
 */
function manifestReader(token: string, declared?: readonly OwnedRecord[]): (section: ProbeOutput | undefined) => ManifestRead {
  const parsed = new WeakMap<ProbeOutput, ManifestRead>();
  return (section) => {
    if (section === undefined) return readManifest(section, token, declared);
    const known = parsed.get(section);
    if (known !== undefined) return known;
    const read = readManifest(section, token, declared);
    parsed.set(section, read);
    return read;
  };
}

const recordOf = (entry: ManifestEntry): OwnedRecord => ({ type: entry.type, id: entry.id, spec: entry.spec, probe: entry.probe, task: entry.task, ...(entry.role ? { role: entry.role } : {}) });

/**
 * A host no play reaches, opened only to remove the recorded objects `ids` (a dropped VRRP peer's
 * keepalived): an apply's prune of those alone, everything else it records kept as it is.
 */
function retiring(token: string, ids: readonly string[]): HostOwnership {
  const removed = new Set(ids);
  const probe = manifestProbe(token, { only: ids });
  const readOnce = manifestReader(token);
  return {
    probe,
    recorded: (section) => new Set(readOnce(section).entries.map((entry) => entry.id)),
    plan(section, predicted, context) {
      const read = readOnce(section);
      // A keepalived lvsprov did not make is not its to stop: the host fails, and the directors
      // that would drop it hold their change back (engine/hold-back.ts) and keep advertising to it.
      if (!read.entries.some((entry) => removed.has(entry.id))) throw new Error(`lvsprov recorded no ${ids.join(', ')} here, so it does not stop one: stop it yourself (if it runs) and apply with --stopped-peer`);
      const keep = read.entries.filter((entry) => !removed.has(entry.id)).map(recordOf);
      const { changes, records } = planPrune(read, keep, predicted, { ...context, pruning: true });
      return { prunes: changes, manifest: manifestChange(read, records), interim: undefined };
    },
  };
}

/**
 * The recorded objects whose state the plan below may need: those it may remove. apply removes
 * what no task declares (nothing when tasks were left out); reset removes everything recorded, or
 * only what the selected tasks own. A declared object's probe would only repeat what its task's
 * own probe reads, at a few processes per object on every host.
 */
function probedEntries(mode: RunMode, keepUndeclared: boolean, selectedIds: readonly string[]): ProbedEntries {
  if (mode === 'apply') return keepUndeclared ? { only: [] } : { except: selectedIds };
  return keepUndeclared ? { only: selectedIds } : EVERY_ENTRY;
}
