import type { CompiledTask } from '../config/compile.js';
import { resourceTypes } from '../resources/registry.js';
import { deepFreeze } from '../config/deep-freeze.js';
import { probeOf } from '../resources/probe-of.js';
import type { AnyResourceType, OwnedObject } from '../resources/types.js';

// What the tasks of a host declare, as the records lvsprov keeps of what it made: each object a
// resource type says a spec owns, with the probe that reads it back and the task that made it.

export interface OwnedRecord {
  /** The resource type whose reset planner removes the object. */
  readonly type: string;
  readonly id: string;
  /** The spec whose reset removes exactly this object. */
  readonly spec: unknown;
  /** The type's probe for that spec: the read runs it from the manifest, see manifest.ts. */
  readonly probe: string;
  /** The task (and role) that made it, for the plan's messages. */
  readonly task: string;
  readonly role?: string;
}

/** The objects a spec owns: the type's own answer, else one per task when the type can undo it. */
export function ownedObjects(type: AnyResourceType, spec: unknown): OwnedObject<unknown>[] {
  if (type.owns) return type.owns(spec);
  return type.reset ? [{ id: type.key(spec), spec }] : [];
}

// The objects of one frozen spec (shared by every host compiled to it), worked out once; frozen
// themselves, so that their probes are built once too (probe-of.ts).
const ownedBySpec = new WeakMap<object, readonly OwnedObject<unknown>[]>();

function ownedOnce(type: AnyResourceType, spec: unknown): readonly OwnedObject<unknown>[] {
  if (typeof spec !== 'object' || spec === null || !Object.isFrozen(spec)) return ownedObjects(type, spec);
  let owned = ownedBySpec.get(spec);
  if (owned === undefined) ownedBySpec.set(spec, (owned = deepFreeze(ownedObjects(type, spec))));
  return owned;
}


export function typeNamed(name: string): AnyResourceType | undefined {
  return Object.hasOwn(resourceTypes, name) ? (resourceTypes as Record<string, AnyResourceType>)[name] : undefined;
}

/** Every object the tasks declare, in task order; an id declared twice is recorded once, as first declared. */
export function declaredRecords(tasks: readonly CompiledTask[]): OwnedRecord[] {
  const records = new Map<string, OwnedRecord>();
  for (const task of tasks) {
    for (const object of ownedOnce(resourceTypes[task.type] as AnyResourceType, task.spec)) {
      const type = typeNamed(object.type ?? task.type);
      if (type === undefined || records.has(object.id)) continue;
      records.set(object.id, { type: type.name, id: object.id, spec: object.spec, probe: probeOf(type, object.spec), task: task.name, ...(task.role ? { role: task.role } : {}) });
    }
  }
  return [...records.values()];
}
