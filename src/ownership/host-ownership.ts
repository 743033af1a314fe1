import type { CompiledTask } from '../config/compile.js';
import type { RunMode } from '../engine/planners.js';
import type { Change, HostContext, ProbeOutput } from '../resources/types.js';
import { manifestChange, manifestProbe, parseManifestRead, type ManifestEntry } from './manifest.js';
import { planPrune, type PrunedChange } from './prune.js';
import { declaredRecords, type OwnedRecord } from './records.js';

// What the host planner needs of ownership: one more probe in the read, and after the tasks are
// planned, the removals and the manifest. apply keeps what its tasks own and removes the rest of
// what the manifest records; reset keeps nothing, so it removes everything lvsprov recorded.

export interface HostOwnership {
  readonly probe: string;
  plan(section: ProbeOutput | undefined, predicted: Map<string, unknown>, context: HostContext): { prunes: PrunedChange[]; manifest: Change | undefined };
}

/**
 * `token` marks the probes' sections in the read (a fresh random one per run, see newNonce).
 * `keepUndeclared`: the run left tasks out (--tags, --skip-tags), so what the manifest records and
 * no task of this run declares may belong to a task left out: apply removes nothing then, and
 * reset removes only what the selected tasks own.
 */
export function hostOwnership(tasks: readonly CompiledTask[], mode: RunMode, token: string, keepUndeclared = false): HostOwnership {
  const selected = declaredRecords(tasks);
  const probe = manifestProbe(token);
  return {
    probe,
    plan(section, predicted, context) {
      let read;
      try {
        read = parseManifestRead(section ?? { stdout: '', status: 255 }, token);
      } catch (error) {
        throw new Error(`ownership manifest: ${(error as Error).message}`);
      }
      const selectedIds = new Set(selected.map((record) => record.id));
      const recorded = (keep: (entry: ManifestEntry) => boolean): OwnedRecord[] =>
        read.entries.filter(keep).map((entry) => ({ type: entry.type, id: entry.id, spec: entry.spec, probe: entry.probe, task: entry.task, ...(entry.role ? { role: entry.role } : {}) }));
      if (keepUndeclared && mode === 'apply') {
        // Nothing is removed; the manifest keeps its order, each declared object recorded afresh in
        // its place and a new one at the end, so a run that changes nothing rewrites nothing.
        const fresh = new Map(selected.map((record) => [record.id, record]));
        const inPlace = recorded(() => true).map((record) => fresh.get(record.id) ?? record);
        const known = new Set(inPlace.map((record) => record.id));
        return { prunes: [], manifest: manifestChange(read, [...inPlace, ...selected.filter((record) => !known.has(record.id))]) };
      }
      // What stays: apply keeps what it declares; reset keeps nothing, or, limited to some tasks,
      // everything those tasks do not own.
      const keep = mode === 'apply' ? selected : keepUndeclared ? recorded((entry) => !selectedIds.has(entry.id)) : [];
      const { changes, records } = planPrune(read, keep, predicted, context);
      return { prunes: changes, manifest: manifestChange(read, records) };
    },
  };
}
