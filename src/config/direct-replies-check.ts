import type { ConfigProblem } from '../errors.js';
import type { RouteSpec } from '../resources/route.js';
import type { CompiledTask } from './compile.js';
import { natGateway } from './dip.js';
import type { LoadedInventory } from './inventory.js';

// A real server that serves a NAT service and a DR or TUN service of the same director: its NAT
// replies (from its own address) must pass the director, its DR and TUN replies (from the VIP)
// must not, since a director holding the VIP drops a packet with its own address as source (a
// martian). The shipped realserver-nat role sends the NAT replies by source routes and leaves
// such a server its own default route; what remains unsafe is a playbook whose tasks still point
// the server's main default route at that director (an own role in place of the shipped one, or
// a playbook task): every DR or TUN reply would be dropped. Checked on the compiled tasks, said
// once per server and service, at the server's entry.

export function directRepliesProblems(inventory: Pick<LoadedInventory, 'source' | 'data' | 'groups' | 'services'>, hosts: ReadonlyMap<string, readonly CompiledTask[]>): ConfigProblem[] {
  const natDirectors = new Map<string, Set<string>>();
  for (const service of inventory.services) {
    if (service.forwarding !== 'nat') continue;
    for (const server of service.realServers) {
      if (server.host === undefined) continue;
      const directors = natDirectors.get(server.host) ?? new Set<string>();
      for (const director of service.directors) directors.add(director);
      natDirectors.set(server.host, directors);
    }
  }
  if (natDirectors.size === 0) return [];
  const problems: ConfigProblem[] = [];
  inventory.services.forEach((service, index) => {
    if (service.forwarding === 'nat' || service.address === undefined) return;
    service.realServers.forEach((server, serverIndex) => {
      const host = server.host;
      const directors = host === undefined ? undefined : natDirectors.get(host);
      if (host === undefined || directors === undefined) return;
      for (const director of service.directors.filter((name) => directors.has(name))) {
        const gateway = natGateway(inventory, director);
        const task = hosts.get(host)?.find((entry) => entry.type === 'route' && isDefaultVia(entry.spec as RouteSpec, gateway));
        if (task === undefined) continue;
        problems.push(
          inventory.source.problem(
            ['lvs', 'services', index, 'real_servers', serverIndex],
            `real server ${host} serves NAT through director ${director}, and its task "${task.name}"${task.role === undefined ? '' : ` (role ${task.role})`} points its default route there, so its ${service.forwarding} replies ` +
              `from VIP ${service.address} would reach ${director}, which holds that VIP and drops them (their source is its own address): send only the NAT replies there, ` +
              `by a source_route from the address the NAT service lists it by (as the shipped realserver-nat role does), or serve ${service.name} by nat, or from other hosts`,
          ),
        );
        break;
      }
    });
  });
  return problems;
}

const isDefaultVia = (spec: RouteSpec, gateway: string | undefined): boolean => spec.destination === 'default' && spec.state === 'present' && gateway !== undefined && spec.via === gateway;
