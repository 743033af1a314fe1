import { ipv4Problem, isIpv4, isLoopback, unicastProblem } from '../net/ipv4.js';
import { own } from './own.js';
import { suggestion } from './suggest.js';
import type { ConfigProblem } from '../errors.js';
import type { HealthCheck } from './ha-schema.js';
import type { Inventory } from './inventory-schema.js';
import type { YamlSource } from './yaml-source.js';

// The LVS part of the inventory, resolved: VIP names to addresses, real-server hosts to addresses,
// directors defaulted from the `directors` group. Everything later reads this, not the raw YAML.

export interface ResolvedRealServer {
  readonly host?: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
}

export interface ResolvedService {
  readonly name: string;
  readonly protocol: 'tcp' | 'udp' | 'fwmark';
  readonly address?: string;
  readonly vipName?: string;
  readonly vipInterface?: string;
  readonly port: number;
  readonly fwmark?: number;
  /** fwmark: the VIP's TCP ports the director marks; absent: every port. */
  readonly ports?: readonly number[];
  readonly scheduler: string;
  readonly forwarding: 'dr' | 'tun' | 'nat';
  readonly persistence?: { readonly timeout: number; readonly netmask?: string };
  readonly directors: readonly string[];
  readonly realServers: readonly ResolvedRealServer[];
  /** keepalived's settings; a service with any of them is held by keepalived. */
  readonly healthCheck?: HealthCheck;
  readonly inhibitOnFailure?: boolean;
  readonly sorryServer?: { readonly address: string; readonly port: number };
  readonly quorum?: number;
}

export function resolveServices(
  source: YamlSource,
  data: Inventory,
  groups: ReadonlyMap<string, readonly string[]>,
  problems: ConfigProblem[],
): ResolvedService[] {
  const seen = new Map<string, number>();
  const names = new Map<string, number>();
  return data.lvs.services.map((service, index) => {
    const at = (...path: Array<string | number>): Array<string | number> => ['lvs', 'services', index, ...path];
    let address: string | undefined;
    let vipInterface: string | undefined;
    let vipName: string | undefined;
    if (service.vip !== undefined) {
      const named = own(data.lvs.vips, service.vip);
      if (named) {
        address = named.address;
        vipInterface = named.interface;
        vipName = service.vip;
      } else if (isIpv4(service.vip)) {
        address = service.vip;
        const notUnicast = unicastProblem(service.vip, false);
        if (notUnicast) problems.push(source.problem(at('vip'), `VIP ${service.vip} ${notUnicast}`));
      } else if (/^[0-9.]+$/.test(service.vip)) {
        problems.push(source.problem(at('vip'), `VIP ${service.vip} is not an IPv4 address: it ${ipv4Problem(service.vip) ?? ''}`));
      } else {
        problems.push(source.problem(at('vip'), `unknown VIP ${service.vip}: not a name in lvs.vips and not an IPv4 address${suggestion(service.vip, Object.keys(data.lvs.vips))}`));
      }
    }
    const identity = service.protocol === 'fwmark' ? `fwmark ${service.fwmark}` : `${service.protocol} ${address}:${service.port}`;
    const previous = seen.get(identity);
    if (previous !== undefined) problems.push(source.problem(at(), `duplicate virtual service ${identity} (also lvs.services.${previous})`));
    seen.set(identity, index);
    // verify, status and graph report each service by its name (its identity when it has none).
    const name = service.name ?? identity.replace(/[ :]/g, '-');
    const named = names.get(name);
    if (named !== undefined) problems.push(source.problem(service.name !== undefined ? at('name') : at(), `duplicate service name ${name} (also lvs.services.${named}): verify, status and graph report each service by its name; give each its own`));
    names.set(name, index);

    const directors = service.directors ?? [...(groups.get('directors') ?? [])];
    if (service.directors === undefined && directors.length === 0)
      problems.push(source.problem(at(), 'no directors: list them in `directors` or put hosts in the group `directors`'));
    // An empty list is not "the default": no host would hold the service, and it would vanish from the cluster.
    if (service.directors !== undefined && directors.length === 0)
      problems.push(source.problem(at('directors'), 'no directors: `directors` is empty; list the director hosts, or leave it out to use the group `directors`'));
    (service.directors ?? []).forEach((host, i) => {
      if (!Object.hasOwn(data.hosts, host)) problems.push(source.problem(at('directors', i), `unknown host ${host}${suggestion(host, Object.keys(data.hosts))}`));
    });

    const endpoints = new Set<string>();
    const realServers: ResolvedRealServer[] = [];
    service.real_servers.forEach((server, i) => {
      const host = server.host !== undefined ? own(data.hosts, server.host) : undefined;
      if (server.host !== undefined && !host) {
        problems.push(source.problem(at('real_servers', i, 'host'), `unknown host ${server.host}${suggestion(server.host, Object.keys(data.hosts))}`));
        return;
      }
      const rip = server.address ?? host?.address ?? '';
      if (!isIpv4(rip)) {
        problems.push(source.problem(at('real_servers', i), `real server address ${rip} is not an IPv4 address; set \`address\``));
        return;
      }
      // IPVS delivers to a loopback real server on the director itself (its local node). For a real
      // server that is another machine, a loopback address (an SSH tunnel's, say) would do the same:
      // the director would answer its share of requests itself.
      if (isLoopback(rip) && server.host !== undefined && !directors.includes(server.host)) {
        const from = server.address !== undefined ? 'address' : 'host';
        problems.push(
          source.problem(
            at('real_servers', i, from),
            `real server ${server.host}'s address ${rip} is a loopback address: the director would deliver its requests to itself, not to ${server.host}; set \`address\` to where the director reaches ${server.host}`,
          ),
        );
        return;
      }
      const port = server.port ?? service.port;
      const endpoint = `${rip}:${port}`;
      if (endpoints.has(endpoint)) problems.push(source.problem(at('real_servers', i), `duplicate real server ${endpoint}`));
      endpoints.add(endpoint);
      realServers.push({ ...(server.host !== undefined ? { host: server.host } : {}), address: rip, port, weight: server.weight });
    });

    return {
      name,
      protocol: service.protocol,
      ...(address !== undefined ? { address } : {}),
      ...(vipName !== undefined ? { vipName } : {}),
      ...(vipInterface !== undefined ? { vipInterface } : {}),
      port: service.port,
      ...(service.fwmark !== undefined ? { fwmark: service.fwmark } : {}),
      ...(service.ports !== undefined ? { ports: [...new Set(service.ports)].sort((a, b) => a - b) } : {}),
      scheduler: service.scheduler,
      forwarding: service.forwarding,
      ...(service.persistence !== undefined ? { persistence: service.persistence } : {}),
      directors,
      realServers,
      ...(service.health_check !== undefined ? { healthCheck: service.health_check } : {}),
      ...(service.inhibit_on_failure !== undefined ? { inhibitOnFailure: service.inhibit_on_failure } : {}),
      ...(service.sorry_server !== undefined ? { sorryServer: { address: service.sorry_server.address, port: service.sorry_server.port ?? service.port } } : {}),
      ...(service.quorum !== undefined ? { quorum: service.quorum } : {}),
    };
  });
}

/** Each service VIP with the directors of every service on it, in inventory order. */
export function directorsByVip(services: readonly ResolvedService[]): Map<string, string[]> {
  const byVip = new Map<string, string[]>();
  for (const service of services) {
    if (service.address === undefined) continue;
    const directors = byVip.get(service.address) ?? [];
    for (const director of service.directors) if (!directors.includes(director)) directors.push(director);
    byVip.set(service.address, directors);
  }
  return byVip;
}
