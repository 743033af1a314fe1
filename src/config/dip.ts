import type { LoadedInventory } from './inventory.js';
import type { HostEntry } from './inventory-schema.js';
import { own } from './own.js';
import type { PathSegment } from './yaml-source.js';

// Where a director is reached by the NAT real servers it forwards to: the `dip` a host sees, else
// its address. Host variables (host-vars.ts), the cross-host checks and the address owners all ask.

export type DipScope = Pick<LoadedInventory, 'data' | 'groups'>;

/** The address NAT real servers of a director route through: lvs.ha's floating gateway, else the director's address. */
export function natGateway(inventory: DipScope, director: string): string | undefined {
  return inventory.data.lvs.ha?.gateway?.address ?? directorAddress(inventory, director);
}

/** A director's address as its NAT real servers route through it: its `dip` variable or its address. */
export function directorAddress(inventory: DipScope, director: string): string | undefined {
  const entry = own(inventory.data.hosts, director);
  return entry && dipOf(inventory, director, entry);
}

/**
 * A host's address as NAT real servers would route through it: its `dip` variable as the host sees
 * it (host vars, else its groups' in alphabetical order, the last winning, else the cluster's), as
 * hostVars layers them; else its address. A dip set for the group `directors` is the usual way.
 */
export function dipOf(inventory: DipScope, host: string, entry: HostEntry): string {
  const origin = dipOrigin(inventory, host, entry);
  const dip = origin === undefined ? undefined : origin[0] === 'vars' ? inventory.data.vars.dip : origin[0] === 'groups' ? own(inventory.data.groups, origin[1] as string)?.vars.dip : entry.vars.dip;
  return typeof dip === 'string' ? dip : entry.address;
}

/** Where the dip a host sees is set (its inventory path), if anywhere. */
export function dipOrigin(inventory: DipScope, host: string, entry: HostEntry): readonly PathSegment[] | undefined {
  if (Object.hasOwn(entry.vars, 'dip')) return ['hosts', host, 'vars', 'dip'];
  const group = dipGroupOf(inventory, host);
  if (group !== undefined) return ['groups', group, 'vars', 'dip'];
  return Object.hasOwn(inventory.data.vars, 'dip') ? ['vars', 'dip'] : undefined;
}

const groupDips = new WeakMap<DipScope['groups'], { readonly groups: number; readonly byHost: ReadonlyMap<string, string> }>();

/** The group whose dip a host sees (the last in alphabetical order of those that set one). */
function dipGroupOf(inventory: DipScope, host: string): string | undefined {
  // Built once per inventory (again once the session stores' group joins it): the lint asks for
  // every host, and few groups set a dip.
  let found = groupDips.get(inventory.groups);
  if (found?.groups !== inventory.groups.size) {
    const byHost = new Map<string, string>();
    const setting = [...inventory.groups.keys()].filter((group) => Object.hasOwn(own(inventory.data.groups, group)?.vars ?? {}, 'dip')).sort();
    for (const group of setting) for (const member of inventory.groups.get(group) ?? []) byHost.set(member, group);
    found = { groups: inventory.groups.size, byHost };
    groupDips.set(inventory.groups, found);
  }
  return found.byHost.get(host);
}
