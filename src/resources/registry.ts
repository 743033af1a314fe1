import type { AnyResourceType } from './types.js';
import { sysctl } from './sysctl.js';
import { ipvs } from './ipvs.js';

/**
 * Every task type a playbook may use. The playbook schema is derived from this map, so an unknown
 * task type is a validation error before any host is contacted.
 */
export const resourceTypes = {
  sysctl,
  ipvs,
} satisfies Record<string, AnyResourceType>;

export type ResourceTypeName = keyof typeof resourceTypes;

export function isResourceTypeName(name: string): name is ResourceTypeName {
  return Object.hasOwn(resourceTypes, name);
}
