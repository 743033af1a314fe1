import { formatProblem } from '../errors.js';
import { groupsOf, type LoadedInventory } from './inventory.js';
import { nearestNames } from './suggest.js';

// A host no play reaches gets no role: usually a group name misspelt (`groups: [realserver]`
// where the playbook says `realservers`). That is a warning, not an error: an inventory may hold
// hosts another playbook configures. Hosts of group `clients` are exempt: verify sends its
// requests from them, and no play is meant to touch them.

const exempt = new Set(['clients']);

/** One warning (`file:line:col: path: message`) per host of the inventory that no play targets. */
export function unreachedHostWarnings(inventory: LoadedInventory, patterns: readonly string[], reached: ReadonlySet<string>): string[] {
  const warnings: string[] = [];
  for (const [host, entry] of Object.entries(inventory.data.hosts)) {
    if (reached.has(host)) continue;
    const groups = groupsOf(inventory, host);
    if (groups.some((group) => exempt.has(group))) continue;
    const near = groups.map((group) => ({ group, meant: nearestNames(group, patterns, 1)[0] })).find((entry) => entry.meant !== undefined);
    const listed = near === undefined ? -1 : entry.groups.indexOf(near.group);
    const path = listed >= 0 ? ['hosts', host, 'groups', listed] : ['hosts', host];
    const their = groups.length === 0 ? 'it is in no group' : `its groups: ${groups.join(', ')}`;
    const hint = near === undefined ? '' : `; did you mean ${near.meant}?`;
    warnings.push(formatProblem(inventory.source.problem(path, `no play reaches host ${host} (${their}), so it gets no role${hint}`, listed < 0)));
  }
  return warnings;
}
