import { resourceTypes, type ResourceTypeName } from '../resources/registry.js';
import type { AnyResourceType } from '../resources/types.js';

// Two tasks of one host that declare one whole object - a file, a boot hook, a route, a module -
// with different specs never converge: each apply makes the first, then the second, and reports
// both as changes, for ever. Refused at the later task, naming the earlier one. The same spec twice
// (two roles that each need one module) is one object declared twice, and fine. Types whose key
// names a container of several objects (a sysctl file, a device's addresses, the IPVS table) are
// not checked here: two tasks there may well declare different parts of it.
const WHOLE_OBJECT_TYPES: ReadonlySet<ResourceTypeName> = new Set<ResourceTypeName>(['file', 'at_boot', 'kmod', 'route', 'source_route']);

// Per frozen spec (shared by every host compiled to it): its key and text, worked out once.
const claimBySpec = new WeakMap<object, readonly [key: string, text: string]>();

function keyAndText(type: ResourceTypeName, spec: object): readonly [string, string] {
  let found = claimBySpec.get(spec);
  if (found === undefined) {
    found = [(resourceTypes[type] as AnyResourceType).key(spec), JSON.stringify(spec)];
    claimBySpec.set(spec, found);
  }
  return found;
}

/** The whole objects one host's tasks declare so far, each with what `Where` says of the task that declared it first. */
export class ObjectClaims<Where> {
  private readonly claims = new Map<string, { readonly text: string; readonly where: Where }>();

  /** When `spec` declares an object an earlier task declared otherwise: the object and that task's `where`. */
  claim(type: ResourceTypeName, spec: unknown, where: Where): { readonly id: string; readonly earlier: Where } | undefined {
    if (!WHOLE_OBJECT_TYPES.has(type) || typeof spec !== 'object' || spec === null) return undefined;
    const [key, text] = keyAndText(type, spec);
    const earlier = this.claims.get(key);
    if (earlier === undefined) this.claims.set(key, { text, where });
    else if (earlier.text !== text) return { id: key, earlier: earlier.where };
    return undefined;
  }
}
