import { shortened } from '../errors.js';
import { globMatches } from '../glob.js';
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
      problems.push(/[*?]/.test(name) ? `${shown} matches no host or group` : `unknown host or group ${shown}${suggestion(name, known)}`);
      continue;
    }
    for (const host of matched) (negated ? exclude : include).add(host);
  }
  const base = positive.length === 0 ? new Set(hosts) : include;
  const selected = hosts.filter((host) => base.has(host) && !exclude.has(host));
  // Every term named something, and the exclusions took it all back (`rs*,!realservers`, `!*`):
  // a run on no host would report success and check nothing, as ansible-playbook refuses it.
  if (selected.length === 0 && problems.length === 0 && terms.length > 0) {
    problems.push(`${shortened(terms.join(','))} selects no host: its exclusions (${terms.filter((term) => term.startsWith('!')).map(shortened).join(', ')}) remove every host the rest names`);
  }
  return { hosts: selected, problems };
}
