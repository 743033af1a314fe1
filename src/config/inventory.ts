import { dirname } from 'node:path';
import { appendAll } from './append-all.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { inventorySchema, type HostEntry, type Inventory } from './inventory-schema.js';
import { parseWith } from './validate.js';
import { YamlSource } from './yaml-source.js';
import { STANDARD_INPUT } from './yaml-text.js';
import { resolveServices, type ResolvedService } from './lvs-model.js';
import { resolveSessions } from './sessions-model.js';
import { crossHostProblems } from './cross-host-lint.js';
import { suggestion } from './suggest.js';
import { parsePlainHostsInPlace } from './plain-hosts.js';
import { ipv4Number } from '../net/ipv4.js';
import { entryPortOf } from './ssh-port.js';

export interface LoadedInventory {
  /** Its path, or `<stdin>` when read from standard input. */
  readonly file: string;
  /** The folder its relative paths start from. */
  readonly dir: string;
  readonly source: YamlSource;
  readonly data: Inventory;
  /** Group name -> member host names, from both `groups.X.hosts` and `hosts.Y.groups`. */
  readonly groups: ReadonlyMap<string, readonly string[]>;
  readonly services: readonly ResolvedService[];
  /** The hosts as lists, for a pass over every host: walked in a fraction of the time the mapping is. */
  readonly hostList: HostList;
  /** Set by a command that resolves connections (ssh_config's Port included) before it compiles: see ssh-port.ts. */
  readonly connectPort?: (host: string) => number | undefined;
}

export function loadInventory(file: string): LoadedInventory {
  const source = YamlSource.load(file);
  const { data, hostList } = parseInventory(source);
  const problems: ConfigProblem[] = [];

  for (const [group, entry] of Object.entries(data.groups)) {
    entry.hosts.forEach((host, index) => {
      if (!Object.hasOwn(data.hosts, host)) problems.push(source.problem(['groups', group, 'hosts', index], `unknown host ${host}${suggestion(host, Object.keys(data.hosts))}`));
    });
  }
  checkUniqueAddresses(source, data, hostList, problems);
  const seenVips = new Map<string, string>();
  for (const [name, vip] of Object.entries(data.lvs.vips)) {
    const other = seenVips.get(vip.address);
    if (other) problems.push(source.problem(['lvs', 'vips', name, 'address'], `duplicate VIP ${vip.address} (also ${other})`));
    seenVips.set(vip.address, name);
  }

  const groups = collectGroups(data, hostList);
  appendAll(problems, ambiguousNames(source, data, hostList, groups));
  const services = resolveServices(source, data, groups, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const lint = crossHostProblems({ source, data, services, groups });
  if (lint.length > 0) throw new ConfigError(lint);
  addSessionStores(groups, data, services);
  // Read from standard input, its relative paths (playbook, roles_path, keys) are the current folder's.
  return { file: source.file, dir: file === STANDARD_INPUT ? process.cwd() : dirname(file), source, data, groups, services, hostList };
}

/**
 * A play's hosts and --limit read a name as a group before a host, and `all` as every host: a group
 * named like a host (`--limit rs1` would select the group's members, not rs1) or a host or group
 * named all would make the run reach other hosts than the name says.
 */
function ambiguousNames(source: YamlSource, data: Inventory, hosts: HostList, groups: ReadonlyMap<string, readonly string[]>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (Object.hasOwn(data.hosts, 'all')) problems.push(source.problem(['hosts', 'all'], 'a host cannot be named all: in a play\'s hosts and --limit, all means every host', true));
  for (const group of groups.keys()) {
    const clash = group === 'all' ? 'all means every host' : Object.hasOwn(data.hosts, group) ? `${group} is also a host, and a name is read as the group first (--limit ${group} would select the group's members)` : undefined;
    if (clash === undefined) continue;
    // At the group's own key, else where a host first lists it.
    const listedBy = Object.hasOwn(data.groups, group) ? -1 : hosts.entries.findIndex((entry) => entry.groups.includes(group));
    const path = listedBy < 0 ? ['groups', group] : ['hosts', hosts.names[listedBy]!, 'groups', hosts.entries[listedBy]!.groups.indexOf(group)];
    problems.push(source.problem(path, `a group cannot be named ${group}: in a play's hosts and --limit, ${clash}; rename the group`, listedBy < 0));
  }
  return problems;
}

/** Every host name in file order, and beside each its entry. */
export interface HostList {
  readonly names: readonly string[];
  readonly entries: readonly HostEntry[];
}

/** The inventory as inventorySchema parses it, and its hosts as lists; hosts of the common shape skip zod (see plain-hosts). */
function parseInventory(source: YamlSource): { data: Inventory; hostList: HostList } {
  const value = source.value() ?? {};
  const split = parsePlainHostsInPlace(value);
  if (!split) {
    const data = parseWith(source, inventorySchema, value);
    return { data, hostList: { names: Object.keys(data.hosts), entries: Object.values(data.hosts) } };
  }
  const data = parseWith(source, inventorySchema, { ...(value as object), hosts: split.rest });
  const { hosts, names, entries } = split;
  names.forEach((name, index) => {
    if (entries[index] === undefined) hosts[name] = entries[index] = data.hosts[name];
  });
  return { data: { ...data, hosts: hosts as Record<string, HostEntry> }, hostList: { names, entries: entries as HostEntry[] } };
}

function checkUniqueAddresses(source: YamlSource, data: Pick<Inventory, 'ssh'>, hosts: HostList, problems: ConfigProblem[]): void {
  const endpointOf = endpoints(data);
  if (!mayShareEndpoints(hosts.entries, endpointOf)) return;
  const byEndpoint = new Map<string, { readonly name: string; readonly address: string }>();
  hosts.names.forEach((name, index) => {
    const host = hosts.entries[index]!;
    const endpoint = endpointOf(host);
    const other = byEndpoint.get(endpoint);
    if (other) {
      const caseNote = other.address !== host.address ? `, as ${other.address}: host names are read without regard to case` : '';
      problems.push(source.problem(['hosts', name, 'address'], `duplicate host address ${host.address} (also host ${other.name}${caseNote})`));
    }
    byEndpoint.set(endpoint, { name, address: host.address });
  });
}

/**
 * What two entries must not share: the machine SSH reaches, by its address, port and jump host as
 * the run resolves them (the host's ssh settings, else the inventory's, else ssh's port 22), host
 * names in lower case (DNS reads them without regard to case). Two entries for one machine would
 * be changed by two connections of one run, each planning against what the other changes. A host
 * reached directly on port 22 is its address, which holds no `>`.
 */
function endpoints(data: Pick<Inventory, 'ssh'>): (host: HostEntry) => string {
  // An IPv4 address has no letter to lower.
  const name = (address: string): string => address.toLowerCase();
  return (host) => {
    const jump = host.ssh?.jump ?? data.ssh.jump;
    const port = entryPortOf(data, host);
    const via = jump === undefined ? '' : `${name(jump.address)}:${jump.port ?? 22}`;
    return via === '' && port === 22 ? name(host.address) : `${via}>${name(host.address)}:${port}`;
  };
}

/**
 * Whether two hosts might share an endpoint. Most hosts are reached directly at an IPv4 address:
 * those are compared as sorted numbers, a fraction of the cost of a map of 75,000 strings; the
 * others by their endpoints. Only an inventory with a shared endpoint is searched for the pairs.
 */
function mayShareEndpoints(entries: readonly HostEntry[], endpointOf: (host: HostEntry) => string): boolean {
  const numbers = new Uint32Array(entries.length);
  let count = 0;
  const others = new Set<string>();
  for (const host of entries) {
    const endpoint = endpointOf(host);
    const number = endpoint === host.address ? ipv4Number(endpoint) : undefined;
    if (number !== undefined) numbers[count++] = number;
    else if (others.has(endpoint)) return true;
    else others.add(endpoint);
  }
  const sorted = numbers.subarray(0, count).sort();
  for (let index = 1; index < sorted.length; index += 1) if (sorted[index] === sorted[index - 1]) return true;
  return false;
}

function collectGroups(data: Inventory, hosts: HostList): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  // A set beside each member list: a group of 70,000 hosts is not searched for each host it gains.
  const known = new Map<string, Set<string>>();
  const membersOf = (group: string): string[] => {
    let members = groups.get(group);
    if (!members) {
      members = [];
      groups.set(group, members);
      known.set(group, new Set());
    }
    return members;
  };
  const add = (group: string, host: string): void => {
    const members = membersOf(group);
    const seen = known.get(group)!;
    if (!seen.has(host)) {
      seen.add(host);
      members.push(host);
    }
  };
  for (const group in data.groups) {
    membersOf(group);
    for (const host of data.groups[group]!.hosts) add(group, host);
  }
  hosts.names.forEach((host, index) => {
    for (const group of hosts.entries[index]!.groups) add(group, host);
  });
  return groups;
}

/**
 * The group `sessionstores`: the hosts lvs.sessions runs memcached on (the site playbook's play
 * for them, and --limit sessionstores), besides any the inventory puts there itself. Always
 * present, so that a playbook naming it warns of nothing where an inventory keeps no sessions.
 */
export const SESSION_STORES_GROUP = 'sessionstores';

function addSessionStores(groups: Map<string, string[]>, data: Inventory, services: readonly ResolvedService[]): void {
  const members = groups.get(SESSION_STORES_GROUP) ?? [];
  const stores = resolveSessions(data, services)?.stores.map(({ host }) => host) ?? [];
  groups.set(SESSION_STORES_GROUP, [...new Set([...members, ...stores])]);
}

// Host -> its groups, built once per inventory: a lookup per host must not scan every group's
// member list (70,000 hosts in one group would make that quadratic).
const groupIndex = new WeakMap<LoadedInventory, Map<string, string[]>>();

/** Groups a host belongs to, in the order their variables apply (alphabetical, as Ansible does at one depth). */
export function groupsOf(inventory: LoadedInventory, host: string): string[] {
  return [...memberships(inventory, host)];
}

const noGroups: readonly string[] = Object.freeze([]);

/** groupsOf without the copy, for a pass over every host that only reads them. */
export function memberships(inventory: LoadedInventory, host: string): readonly string[] {
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
  return index.get(host) ?? noGroups;
}
