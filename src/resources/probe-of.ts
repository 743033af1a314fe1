import type { AnyResourceType } from './types.js';

// A probe is a pure function of its spec, and compile.ts gives every host that renders the same
// spec one frozen object: the probe text is built once per spec, not once per host (a
// thousand-host run built 7,000 sysctl, file and service probes before its first connection).

const probes = new WeakMap<AnyResourceType, WeakMap<object, string>>();

export function probeOf(type: AnyResourceType, spec: unknown): string {
  if (typeof spec !== 'object' || spec === null || !Object.isFrozen(spec)) return type.probe(spec);
  let bySpec = probes.get(type);
  if (bySpec === undefined) probes.set(type, (bySpec = new WeakMap()));
  let probe = bySpec.get(spec);
  if (probe === undefined) bySpec.set(spec, (probe = type.probe(spec)));
  return probe;
}
