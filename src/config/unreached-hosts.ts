import { formatProblem } from '../errors.js';
import { groupsOf, type LoadedInventory } from './inventory.js';
import { nearestNames } from './suggest.js';

// A host no play reaches gets no role: usually a group name misspelt (`groups: [realserver]`
// where the playbook says `realservers`). That is a warning, not an error: an inventory may hold
// hosts another playbook configures. Hosts of group `clients` are exempt: verify sends its
// requests from them, and no play is meant to touch them.
// Hosts that share a cause (the same misspelt group, or the same groups) are told together once
// there are more than a few of them: 70,000 hosts in no group are one warning, not 70,000 lines.

const exempt = new Set(['clients']);

/** Hosts of one cause listed one by one up to this many; beyond it, one warning names the first few. */
export const unreachedListedPerCause = 3;

interface Unreached {
  readonly host: string;
  readonly path: Array<string | number>;
  readonly atKey: boolean;
  /** `its groups: ...` or `it is in no group`. */
  readonly their: string;
}

interface Cause {
  /** `in no group`, `in group realserver`, `of groups web, db`, for many. */
  readonly shared: string;
  readonly hint: string;
  readonly hosts: Unreached[];
}

/** Warnings (`file:line:col: path: message`) for the hosts of the inventory that no play targets. */
export function unreachedHostWarnings(inventory: LoadedInventory, patterns: readonly string[], reached: ReadonlySet<string>): string[] {
  const causes = new Map<string, Cause>();
  const nearest = new Map<string, string | undefined>();
  const meant = (group: string): string | undefined => {
    if (!nearest.has(group)) nearest.set(group, nearestNames(group, patterns, 1)[0]);
    return nearest.get(group);
  };
  for (const [host, entry] of Object.entries(inventory.data.hosts)) {
    if (reached.has(host)) continue;
    const groups = groupsOf(inventory, host);
    if (groups.some((group) => exempt.has(group))) continue;
    const near = groups.map((group) => ({ group, meant: meant(group) })).find((candidate) => candidate.meant !== undefined);
    const listed = near === undefined ? -1 : entry.groups.indexOf(near.group);
    const path = listed >= 0 ? ['hosts', host, 'groups', listed] : ['hosts', host];
    const key = near === undefined ? `groups ${groups.join(',')}` : `near ${near.group}`;
    let cause = causes.get(key);
    if (!cause) {
      cause = {
        shared: near !== undefined ? `in group ${near.group}` : groups.length === 0 ? 'in no group' : `of groups ${groups.join(', ')}`,
        hint: near === undefined ? '' : `; did you mean ${near.meant}?`,
        hosts: [],
      };
      causes.set(key, cause);
    }
    cause.hosts.push({ host, path, atKey: listed < 0, their: groups.length === 0 ? 'it is in no group' : `its groups: ${groups.join(', ')}` });
  }
  return [...causes.values()].flatMap((cause) => describe(inventory, cause));
}

function describe(inventory: LoadedInventory, cause: Cause): string[] {
  const at = (unreached: Unreached, message: string): string => formatProblem(inventory.source.problem(unreached.path, message, unreached.atKey));
  if (cause.hosts.length <= unreachedListedPerCause) {
    return cause.hosts.map((unreached) => at(unreached, `no play reaches host ${unreached.host} (${unreached.their}), so it gets no role${cause.hint}`));
  }
  const first = cause.hosts.slice(0, unreachedListedPerCause).map((unreached) => unreached.host);
  const more = cause.hosts.length - first.length;
  return [at(cause.hosts[0]!, `no play reaches ${cause.hosts.length} hosts ${cause.shared} (${first.join(', ')} and ${more} more), so they get no role${cause.hint}`)];
}
