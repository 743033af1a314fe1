import { hostAddressProblem } from '../net/host-address.js';
import { variableNamePattern, type HostEntry } from './inventory-schema.js';
import { hostNamePattern } from './values.js';

// zod checks a host in microseconds, which a 75,000-host inventory multiplies into most of a
// second of CPU. Nearly every host has one shape: an `address`, maybe `groups` and `vars`, all of
// them valid. That shape is checked here by hand, to the very value hostSchema gives (a unit test
// holds the two equal on generated hosts); any other host - ssh settings, an unknown key, a bad
// name or value - is left to zod, which words the problem and points at it.

type Plain = Record<string, unknown>;

/** An object as the YAML readers make a mapping (zod takes some others, which it then reads itself). */
function isPlain(value: unknown): value is Plain {
  return value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype;
}

function checkedGroups(groups: unknown): string[] | undefined {
  if (groups === undefined) return [];
  if (!Array.isArray(groups)) return undefined;
  for (const group of groups) if (typeof group !== 'string' || !hostNamePattern.test(group)) return undefined;
  return groups.slice() as string[];
}

function checkedVars(vars: unknown): Plain | undefined {
  if (vars === undefined) return {};
  if (!isPlain(vars)) return undefined;
  for (const name in vars) if (!variableNamePattern.test(name)) return undefined;
  // The document's own mapping rather than zod's copy of it (equal, key for key): 75,000 copies
  // are not made, and nothing changes a parsed inventory or reads the document again.
  return vars;
}

/** The host as hostSchema parses it, when `name` and `entry` have the common, valid shape; else undefined. */
export function plainHost(name: string, entry: unknown): HostEntry | undefined {
  if (!hostNamePattern.test(name) || !isPlain(entry)) return undefined;
  const { address } = entry;
  if (typeof address !== 'string' || hostAddressProblem(address) !== undefined) return undefined;
  for (const key in entry) if (key !== 'address' && key !== 'groups' && key !== 'vars') return undefined;
  const groups = checkedGroups(entry.groups);
  const vars = checkedVars(entry.vars);
  if (groups === undefined || vars === undefined) return undefined;
  return { address, groups, vars };
}

export interface PlainHosts {
  /** The document's `hosts` mapping, its hosts of the common shape parsed. */
  readonly hosts: Record<string, unknown>;
  /** Every host name in file order, and beside each its parsed entry (undefined for those left to zod). */
  readonly names: string[];
  readonly entries: Array<HostEntry | undefined>;
  /** The hosts left to zod. */
  readonly rest: Plain;
}

/**
 * Parses the hosts of the common shape where they stand: each is replaced, in the document's own
 * `hosts` mapping, by its parsed form, and the others are returned for zod. A second mapping of
 * 75,000 hosts is not built; the document's value is the inventory loader's, read by nothing else.
 * The names and entries come as lists too, for the checks that go over every host: a list is
 * walked in a fraction of the time a mapping of 75,000 keys is. Null when `inventory` or its
 * `hosts` is not a mapping (zod then says what is wrong).
 */
export function parsePlainHostsInPlace(inventory: unknown): PlainHosts | null {
  if (!isPlain(inventory) || !isPlain(inventory.hosts)) return null;
  const hosts = inventory.hosts;
  const names: string[] = [];
  const entries: Array<HostEntry | undefined> = [];
  const rest: Plain = {};
  for (const name in hosts) {
    const entry = hosts[name];
    const parsed = plainHost(name, entry);
    names.push(name);
    entries.push(parsed);
    if (parsed) hosts[name] = parsed;
    else rest[name] = entry;
  }
  return { hosts, names, entries, rest };
}
