import type { ConfigProblem } from '../errors.js';
import type { CompiledTask } from './compile.js';
import type { LoadedInventory } from './inventory.js';

// A service's director that no play gives an IPVS task (ipvs, or keepalived where it holds the
// table) leaves the service out of the cluster without a word: `directors: [web3]` where web3 is
// not in the group the director play targets. Only said when the playbook does hold services on
// some host (a playbook for the real servers alone holds none, on purpose), for every director
// --limit keeps, whether a play reaches it or not (a director only in group clients, which the
// unreached-host warning leaves alone, would otherwise go unsaid); the ones --limit leaves out are
// unknown.

const HOLDS_SERVICES = new Set(['ipvs', 'keepalived']);

export function unheldServiceProblems(
  inventory: Pick<LoadedInventory, 'source' | 'data' | 'services'>,
  hosts: ReadonlyMap<string, readonly CompiledTask[]>,
  limited: ReadonlySet<string> | null = null,
  /** Hosts whose role was refused already: their tasks are not known, so none is said to be missing. */
  refused: ReadonlySet<string> = new Set(),
): ConfigProblem[] {
  const holds = (host: string): boolean => hosts.get(host)?.some((task) => HOLDS_SERVICES.has(task.type)) ?? false;
  const directors = new Set(inventory.services.flatMap((service) => service.directors));
  const missing = [...directors].filter((host) => (hosts.has(host) || !limited || limited.has(host)) && !holds(host) && !refused.has(host));
  if (missing.length === 0 || ![...directors].some(holds)) return [];
  const problems: ConfigProblem[] = [];
  for (const host of missing) {
    const index = inventory.data.lvs.services.findIndex((service) => service.directors?.includes(host));
    const why = `no play gives ${host} a role that holds virtual services (ipvs or keepalived tasks), so its services would not exist; the site playbook gives the director role to the group directors`;
    problems.push(
      index >= 0
        ? inventory.source.problem(['lvs', 'services', index, 'directors', inventory.data.lvs.services[index]!.directors!.indexOf(host)], `director ${host}: ${why}`)
        : inventory.source.problem(['hosts', host], `host ${host} directs services (group directors): ${why}`, true),
    );
  }
  return problems;
}
