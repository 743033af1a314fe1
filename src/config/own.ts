// Names from an inventory or a playbook (hosts, groups, VIPs, variables) are looked up as own
// properties only: `constructor`, `toString` or `hasOwnProperty` are fine names for a host and
// must never resolve to what every JavaScript object inherits.

/** The value stored under `name` in `record` itself, never one inherited from Object.prototype. */
export function own<T>(record: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

const detached = new WeakMap<object, unknown>();

/**
 * A deep copy of `value` whose objects have no prototype, for a template engine that asks `name in
 * context` (handlebars' strict mode does): an unset variable named `constructor` is then missing, as
 * it should be, instead of inherited and rendered as an empty string. Copies are cached per object.
 */
export function withoutPrototypes<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  const cached = detached.get(value);
  if (cached !== undefined) return cached as T;
  const copy = Array.isArray(value) ? value.map((item: unknown) => withoutPrototypes(item)) : detachedObject(value as Record<string, unknown>);
  detached.set(value, copy);
  return copy as T;
}

function detachedObject(value: Record<string, unknown>): Record<string, unknown> {
  // Assigned one by one (a compile of 1000 hosts makes thousands of these): on an object without
  // a prototype even `__proto__` is a plain own property.
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) copy[key] = withoutPrototypes(value[key]);
  // Without a prototype the object has no way to become a string; the engine's messages need one.
  Object.defineProperty(copy, Symbol.toPrimitive, { value: toVariablesText });
  return copy;
}

const toVariablesText = (): string => '[variables]';

/** Every name objects inherit, each marked "never", for an engine that otherwise warns on each one it refuses. */
export const inheritedNames: Readonly<Record<string, boolean>> = Object.fromEntries(Object.getOwnPropertyNames(Object.prototype).map((name) => [name, false]));
