import type { CompiledTask } from '../config/compile.js';
import type { RunMode } from '../engine/planners.js';
import type { Change, HostContext, ProbeOutput } from '../resources/types.js';
import { manifestChange, manifestProbe, parseManifestRead } from './manifest.js';
import { planPrune, type PrunedChange } from './prune.js';
import { declaredRecords } from './records.js';

// What the host planner needs of ownership: one more probe in the read, and after the tasks are
// planned, the removals and the manifest. apply declares what its tasks own; reset declares
// nothing, so it removes everything lvsprov recorded on the host.

export interface HostOwnership {
  readonly probe: string;
  plan(section: ProbeOutput | undefined, predicted: Map<string, unknown>, context: HostContext): { prunes: PrunedChange[]; manifest: Change | undefined };
}

/** `token` marks the probes' sections in the read (a fresh random one per run, see newNonce). */
export function hostOwnership(tasks: readonly CompiledTask[], mode: RunMode, token: string, keepUndeclared = false): HostOwnership {
  const declared = mode === 'reset' ? [] : declaredRecords(tasks);
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
      if (keepUndeclared) {
        // Nothing is removed; the manifest gains what the run declares and keeps the rest.
        const declaredIds = new Set(declared.map((record) => record.id));
        const kept = read.entries.filter((entry) => !declaredIds.has(entry.id)).map((entry) => ({ type: entry.type, id: entry.id, spec: entry.spec, probe: entry.probe, task: entry.task, ...(entry.role ? { role: entry.role } : {}) }));
        return { prunes: [], manifest: manifestChange(read, [...kept, ...declared]) };
      }
      const { changes, records } = planPrune(read, declared, predicted, context);
      return { prunes: changes, manifest: manifestChange(read, records) };
    },
  };
}
