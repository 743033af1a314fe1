import { dirname } from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { inventorySchema, type HostEntry, type Inventory } from './inventory-schema.js';
import { parseWith } from './validate.js';
import { YamlSource } from './yaml-source.js';
import { resolveServices, type ResolvedService } from './lvs-model.js';
import { crossHostProblems } from './cross-host-lint.js';
import { suggestion } from './suggest.js';

export interface LoadedInventory {
  readonly file: string;
  readonly dir: string;
  readonly source: YamlSource;
  readonly data: Inventory;
  /** Group name -> member host names, from both `groups.X.hosts` and `hosts.Y.groups`. */
  readonly groups: ReadonlyMap<string, readonly string[]>;
  readonly services: readonly ResolvedService[];
}

export function loadInventory(file: string): LoadedInventory {
  const source = YamlSource.load(file);
  const data = parseWith(source, inventorySchema, source.value() ?? {});
  const problems: ConfigProblem[] = [];

  for (const [group, entry] of Object.entries(data.groups)) {
    entry.hosts.forEach((host, index) => {
      if (!Object.hasOwn(data.hosts, host)) problems.push(source.problem(['groups', group, 'hosts', index], `unknown host ${host}; ${suggestion(host, Object.keys(data.hosts))}`));
    });
  }
  checkUniqueAddresses(source, data.hosts, problems);
  const seenVips = new Map<string, string>();
  for (const [name, vip] of Object.entries(data.lvs.vips)) {
    const other = seenVips.get(vip.address);
    if (other) problems.push(source.problem(['lvs', 'vips', name, 'address'], `duplicate VIP ${vip.address} (also ${other})`));
    seenVips.set(vip.address, name);
  }

  const groups = collectGroups(data);
  const services = resolveServices(source, data, groups, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const lint = crossHostProblems({ source, data, services });
  if (lint.length > 0) throw new ConfigError(lint);
  return { file, dir: dirname(file), source, data, groups, services };
}

function checkUniqueAddresses(source: YamlSource, hosts: Record<string, HostEntry>, problems: ConfigProblem[]): void {
  const byEndpoint = new Map<string, string>();
  for (const [name, host] of Object.entries(hosts)) {
    // Two entries may share an address only through a jump host or different ports; the pair is what must be unique.
    const endpoint = `${host.ssh?.jump?.address ?? ''}>${host.address}:${host.ssh?.port ?? ''}`;
    const other = byEndpoint.get(endpoint);
    if (other) problems.push(source.problem(['hosts', name, 'address'], `duplicate host address ${host.address} (also host ${other})`));
    byEndpoint.set(endpoint, name);
  }
}

function collectGroups(data: Inventory): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  const add = (group: string, host: string): void => {
    const members = groups.get(group) ?? [];
    if (!members.includes(host)) members.push(host);
    groups.set(group, members);
  };
  for (const [group, entry] of Object.entries(data.groups)) {
    groups.set(group, groups.get(group) ?? []);
    for (const host of entry.hosts) add(group, host);
  }
  for (const [host, entry] of Object.entries(data.hosts)) for (const group of entry.groups) add(group, host);
  return groups;
}

// Host -> its groups, built once per inventory: a lookup per host must not scan every group's
// member list (70,000 hosts in one group would make that quadratic).
const groupIndex = new WeakMap<LoadedInventory, Map<string, string[]>>();

/** Groups a host belongs to, in the order their variables apply (alphabetical, as Ansible does at one depth). */
export function groupsOf(inventory: LoadedInventory, host: string): string[] {
  let index = groupIndex.get(inventory);
  if (!index) {
    index = new Map();
    for (const [group, members] of inventory.groups) {
      for (const member of members) {
        const groups = index.get(member);
        if (groups) groups.push(group);
        else index.set(member, [group]);
      }
    }
    for (const groups of index.values()) groups.sort();
    groupIndex.set(inventory, index);
  }
  return [...(index.get(host) ?? [])];
}
