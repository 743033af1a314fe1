import { formatProblem } from '../errors.js';
import { memberships, type LoadedInventory } from './inventory.js';
import { own } from './own.js';
import { nearestNames } from './suggest.js';

// A host no play reaches gets no role: usually a group name misspelt (`groups: [realserver]`
// where the playbook says `realservers`). That is a warning, not an error: an inventory may hold
// hosts another playbook configures. Hosts of group `clients` are exempt: verify sends its
// requests from them, and no play is meant to touch them; but not one that a service names as a
// real server, which is then left without its real-server setup.
// Hosts that share a cause (the same misspelt group, or the same groups) are told together once
// there are more than a few of them: 70,000 hosts in no group are one warning, not 70,000 lines.

const exempt = new Set(['clients']);

/** Hosts of one cause listed one by one up to this many; beyond it, one warning names the first few. */
export const unreachedListedPerCause = 3;

interface Cause {
  /** `in no group`, `in group realserver`, `of groups web, db`, for many. */
  readonly shared: string;
  readonly hint: string;
  /** The group a play nearly names, if that is the cause. */
  readonly near: string | undefined;
  readonly hosts: string[];
}

/** Warnings (`file:line:col: path: message`) for the hosts of the inventory that no play targets. */
export function unreachedHostWarnings(
  inventory: LoadedInventory,
  patterns: readonly string[],
  reached: ReadonlySet<string>,
  hostOrder: readonly string[] = Object.keys(inventory.data.hosts),
): string[] {
  const causes = new Map<string, Cause>();
  const nearest = new Map<string, string | undefined>();
  const meant = (group: string): string | undefined => {
    if (!nearest.has(group)) nearest.set(group, nearestNames(group, patterns, 1)[0]);
    return nearest.get(group);
  };
  let realServers: Set<string> | undefined;
  const servesRequests = (host: string): boolean => {
    realServers ??= new Set(inventory.services.flatMap((service) => service.realServers.flatMap((server) => (server.host === undefined ? [] : [server.host]))));
    return realServers.has(host);
  };
  // A pass over every host: what is kept per host is its name; the rest is made for the few named.
  for (const host of hostOrder) {
    if (reached.has(host)) continue;
    const groups = memberships(inventory, host);
    if (groups.length > 0 && groups.some((group) => exempt.has(group)) && !servesRequests(host)) continue;
    const near = groups.length === 0 ? undefined : groups.find((group) => meant(group) !== undefined);
    const key = near !== undefined ? `near ${near}` : groups.length === 0 ? 'no groups' : `groups ${groups.join(',')}`;
    let cause = causes.get(key);
    if (!cause) {
      cause = {
        shared: near !== undefined ? `in group ${near}` : groups.length === 0 ? 'in no group' : `of groups ${groups.join(', ')}`,
        hint: near === undefined ? '' : `; did you mean ${meant(near)}?`,
        near,
        hosts: [],
      };
      causes.set(key, cause);
    }
    cause.hosts.push(host);
  }
  return [...causes.values()].flatMap((cause) => describe(inventory, cause));
}

function describe(inventory: LoadedInventory, cause: Cause): string[] {
  const at = (host: string, message: string): string => {
    // At the misspelt group where the host lists it, else at the host.
    const listed = cause.near === undefined ? -1 : own(inventory.data.hosts, host)?.groups.indexOf(cause.near) ?? -1;
    return formatProblem(listed >= 0 ? inventory.source.problem(['hosts', host, 'groups', listed], message) : inventory.source.problem(['hosts', host], message, true));
  };
  if (cause.hosts.length <= unreachedListedPerCause) {
    return cause.hosts.map((host) => {
      const groups = memberships(inventory, host);
      const their = groups.length === 0 ? 'it is in no group' : `its groups: ${groups.join(', ')}`;
      return at(host, `no play reaches host ${host} (${their}), so it gets no role${cause.hint}`);
    });
  }
  const first = cause.hosts.slice(0, unreachedListedPerCause);
  const more = cause.hosts.length - first.length;
  return [at(cause.hosts[0]!, `no play reaches ${cause.hosts.length} hosts ${cause.shared} (${first.join(', ')} and ${more} more), so they get no role${cause.hint}`)];
}
