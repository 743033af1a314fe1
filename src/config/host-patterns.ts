import { shortened } from '../errors.js';
import { suggestion } from './suggest.js';

// --limit as Ansible reads it: comma-separated terms, each a host, a group, `all`, or a glob
// (`*` any run of characters, `?` one) over host and group names; a term starting with `!`
// removes what it matches. Without a positive term the selection starts from every host.

export interface HostSelection {
  /** Selected hosts, in inventory order. */
  readonly hosts: readonly string[];
  /** One message per term that matched no host or group. */
  readonly problems: readonly string[];
}

/**
 * Whether `name` matches `glob`. Not by a RegExp: `*a*a*a*...*b` as `.*a.*a.*...b` backtracks
 * through every way to split a name among the stars, and a few dozen characters of name hang
 * the run. Here a star that fails is moved on by one character from the last star alone, so the
 * match takes at most glob length x name length steps.
 */
export function globMatches(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (g < glob.length && (glob[g] === '?' || (glob[g] !== '*' && glob[g] === name[n]))) {
      g += 1;
      n += 1;
    } else if (g < glob.length && glob[g] === '*') {
      star = g;
      resume = n;
      g += 1;
    } else if (star >= 0) {
      g = star + 1;
      resume += 1;
      n = resume;
    } else return false;
  }
  while (g < glob.length && glob[g] === '*') g += 1;
  return g === glob.length;
}

/** The hosts one term names; null when it names nothing. */
function termHosts(term: string, hosts: readonly string[], groups: ReadonlyMap<string, readonly string[]>): ReadonlySet<string> | null {
  if (term === 'all' || term === '*') return new Set(hosts);
  if (!/[*?]/.test(term)) {
    const group = groups.get(term);
    if (group) return new Set(group);
    return hosts.includes(term) ? new Set([term]) : null;
  }
  const matched = new Set(hosts.filter((host) => globMatches(term, host)));
  for (const [group, members] of groups) if (globMatches(term, group)) members.forEach((member) => matched.add(member));
  return matched.size > 0 ? matched : null;
}

export function selectHosts(terms: readonly string[], hosts: readonly string[], groups: ReadonlyMap<string, readonly string[]>): HostSelection {
  const problems: string[] = [];
  const include = new Set<string>();
  const exclude = new Set<string>();
  const positive = terms.filter((term) => !term.startsWith('!'));
  for (const term of terms) {
    const negated = term.startsWith('!');
    const name = negated ? term.slice(1) : term;
    const matched = termHosts(name, hosts, groups);
    if (matched === null) {
      const known = [...hosts, ...groups.keys()];
      const shown = shortened(name);
      problems.push(/[*?]/.test(name) ? `${shown} matches no host or group` : `unknown host or group ${shown}; ${suggestion(name, known)}`);
      continue;
    }
    for (const host of matched) (negated ? exclude : include).add(host);
  }
  const base = positive.length === 0 ? new Set(hosts) : include;
  return { hosts: hosts.filter((host) => base.has(host) && !exclude.has(host)), problems };
}
