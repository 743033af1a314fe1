import type { AnyResourceType } from './types.js';
import { sysctl } from './sysctl.js';
import { address } from './address.js';
import { strayAddress } from './stray-address.js';
import { link } from './link.js';
import { route } from './route.js';
import { sourceRoute } from './source-route.js';
import { kmod } from './kmod.js';
import { file } from './file.js';
import { ipvs } from './ipvs.js';
import { packageResource } from './package.js';
import { service } from './service.js';
import { arptables } from './arptables.js';
import { fwmark } from './fwmark.js';
import { atBoot } from './at-boot.js';
import { keepalived } from './keepalived.js';
import { allowlist } from './allowlist.js';

/**
 * Every task type a playbook may use. The playbook schema is derived from this map, so an unknown
 * task type is a validation error before any host is contacted.
 */
export const resourceTypes = {
  sysctl,
  address,
  stray_address: strayAddress,
  link,
  route,
  source_route: sourceRoute,
  kmod,
  file,
  ipvs,
  package: packageResource,
  service,
  arptables,
  fwmark,
  at_boot: atBoot,
  keepalived,
  allowlist,
} satisfies Record<string, AnyResourceType>;

export type ResourceTypeName = keyof typeof resourceTypes;

export function isResourceTypeName(name: string): name is ResourceTypeName {
  return Object.hasOwn(resourceTypes, name);
}
