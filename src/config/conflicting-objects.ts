import { resourceTypes, type ResourceTypeName } from '../resources/registry.js';
import type { AnyResourceType } from '../resources/types.js';

// Two tasks of one host that declare one whole object - a file, a boot hook, a route, a module -
// with different specs never converge: each apply makes the first, then the second, and reports
// both as changes, for ever. Refused at the later task, naming the earlier one. The same spec twice
// (two roles that each need one module) is one object declared twice, and fine. Types whose key
// names a container of several objects (a sysctl file, a device's addresses, the IPVS table) are
// not checked here: two tasks there may well declare different parts of it.
const WHOLE_OBJECT_TYPES: ReadonlySet<ResourceTypeName> = new Set<ResourceTypeName>(['file', 'at_boot', 'kmod', 'route', 'source_route']);

// Parts of an object that other tasks' objects may share, each with the value one task gives it:
// one kernel parameter set by two tasks (two roles each writing their own sysctl.d file), one
// routing table's default taken by two source routes. Two values for one part flip it at every
// apply, like two specs of one whole object.
const SHARED_PARTS: Partial<Record<ResourceTypeName, (spec: never) => ReadonlyArray<readonly [id: string, value: string]>>> = {
  sysctl: (spec: { values: Readonly<Record<string, string>> }) => Object.entries(spec.values).map(([name, value]) => [`kernel parameter ${name}`, `= ${value}`]),
  source_route: (spec: { table: number; via: string; state: string }) => (spec.state === 'present' ? [[`the default route of routing table ${spec.table}`, `via ${spec.via}`]] : []),
};

// Per frozen spec (shared by every host compiled to it): its claims, worked out once.
const claimsBySpec = new WeakMap<object, ReadonlyArray<readonly [id: string, text: string]>>();

function claimsOf(type: ResourceTypeName, spec: object): ReadonlyArray<readonly [string, string]> {
  let found = claimsBySpec.get(spec);
  if (found === undefined) {
    const whole: ReadonlyArray<readonly [string, string]> = WHOLE_OBJECT_TYPES.has(type) ? [[(resourceTypes[type] as AnyResourceType).key(spec), JSON.stringify(spec)]] : [];
    found = [...whole, ...(SHARED_PARTS[type]?.(spec as never) ?? [])];
    claimsBySpec.set(spec, found);
  }
  return found;
}

/** The whole objects one host's tasks declare so far, each with what `Where` says of the task that declared it first. */
export class ObjectClaims<Where> {
  private readonly claims = new Map<string, { readonly text: string; readonly where: Where }>();

  /** When `spec` declares an object an earlier task declared otherwise: the object and that task's `where`. */
  claim(type: ResourceTypeName, spec: unknown, where: Where): { readonly id: string; readonly earlier: Where } | undefined {
    if (typeof spec !== 'object' || spec === null || (!WHOLE_OBJECT_TYPES.has(type) && SHARED_PARTS[type] === undefined)) return undefined;
    for (const [id, text] of claimsOf(type, spec)) {
      const earlier = this.claims.get(id);
      if (earlier === undefined) this.claims.set(id, { text, where });
      else if (earlier.text !== text) return { id, earlier: earlier.where };
    }
    return undefined;
  }
}
