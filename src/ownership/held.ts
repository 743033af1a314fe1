import type { AnyResourceType, ChangePhase, HostContext } from '../resources/types.js';
import type { PrunedChange } from './prune.js';
import type { OwnedRecord } from './records.js';
import { typeNamed } from './records.js';

// Objects one resource holds for another type (keepalived holds VIPs and IPVS services, which
// lvsprov's address and ipvs tasks hold without it): see ResourceType.takesOver. Pruning never
// removes such an object from under its new holder, and when the holder goes and takes them
// along, what lvsprov's own tasks persist about them (the ipvs save file) forgets them too.

/** The ids of the objects the declared records' objects hold: their records are handed over, not removed. */
export function takenOver(declared: readonly OwnedRecord[]): Set<string> {
  return new Set(declared.flatMap((record) => (typeNamed(record.type)?.takesOver?.(record.spec) ?? []).map((object) => object.id)));
}

/**
 * After `type`'s object (spec) is removed in `phase`: what it held that no task declares is gone
 * with it, so each such object's type lets go of it (`release`) in the facts this host's own tasks
 * of that type predict, in the same wave. A type no task of this host plans has nothing to forget.
 */
export function releaseTakenAlong(
  removed: { type: AnyResourceType; spec: unknown; phase: ChangePhase; task: string; role?: string },
  declaredIds: ReadonlySet<string>,
  predicted: Map<string, unknown>,
  context: HostContext,
): PrunedChange[] {
  const changes: PrunedChange[] = [];
  for (const object of removed.type.takesOver?.(removed.spec) ?? []) {
    const type = typeNamed(object.type);
    const parsed = type?.schema.safeParse(object.spec);
    if (declaredIds.has(object.id) || type?.release === undefined || !parsed?.success) continue;
    const key = `${type.name}:${type.key(parsed.data)}`;
    if (!predicted.has(key)) continue;
    const facts = predicted.get(key);
    for (const change of type.release.plan(parsed.data, facts, context)) {
      changes.push({ ...change, phase: removed.phase, task: removed.task, ...(removed.role ? { role: removed.role } : {}) });
    }
    predicted.set(key, type.release.after(parsed.data, facts));
  }
  return changes;
}
