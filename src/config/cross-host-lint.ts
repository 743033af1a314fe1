import type { ConfigProblem } from '../errors.js';
import { appendAll } from './append-all.js';
import { intToIpv4, isIpv4, isLoopback, isUsableHost, networkContains, networksOverlap, parseNetwork, unicastProblem, type Ipv4Network } from '../net/ipv4.js';
import { haProblems } from './ha-model.js';
import { sessionsProblems } from './sessions-model.js';
import { shadowedServices } from './shadowed-services.js';
import { dipOf, dipOrigin, directorAddress, natGateway } from './dip.js';
import type { LoadedInventory } from './inventory.js';
import type { ResolvedService } from './lvs-model.js';
import { forwardedTo } from './forwarded-to.js';
import { own } from './own.js';
import { addressOwners, type AddressOwner } from './address-owners.js';
import { realServerAddresses, realServersAtOtherHosts } from './real-server-owners.js';
import type { PathSegment } from './yaml-source.js';

// Mistakes that no single field shows, only the cluster as a whole: each one is certainly wrong
// for an LVS cluster (it breaks traffic, or two hosts fight over an address), so each is an error
// at the node to change. Run on an inventory whose fields and names are already valid.
//
// Not flagged, because LVS allows it: a real server given by `address` that is its director's own
// address (IPVS "localnode": the director serves the request itself).

type Inventory = Pick<LoadedInventory, 'source' | 'data' | 'services' | 'groups'>;

export function crossHostProblems(inventory: Inventory): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const report = (path: PathSegment[], message: string): void => void problems.push(inventory.source.problem(path, message));
  const networks = statedNetworks(inventory, report);
  // One pass over the hosts for every address asked about: an inventory may have 75,000 hosts.
  const owners = addressOwners(inventory, new Set([...clusterAddresses(inventory), ...realServerAddresses(inventory)]));
  vipsThatAreHostAddresses(inventory, owners, report);
  directorDips(inventory, report);
  networkEdges(inventory, networks, report);
  // A health check, sorry server or quorum puts keepalived on a director with or without lvs.ha.
  appendAll(problems, haProblems(inventory));
  // With lvs.ha, VRRP picks the one director that holds each VIP; its own checks replace this one.
  if (!inventory.data.lvs.ha) directorsPerVip(inventory, report);
  realServersThatDirect(inventory, report);
  realServersThatRoute(inventory, report);
  realServersAtOtherHosts(inventory, owners, report);
  shadowedServices(inventory.services, inventory.data.lvs.services, report);
  realServersOffNetworks(inventory, networks, report);
  natGateways(inventory, networks, report);
  drLans(inventory, networks, report);
  appendAll(problems, sessionsProblems(inventory.data, inventory.services, inventory.source));
  return problems;
}

type Report = (path: PathSegment[], message: string) => void;

const servicePath = (index: number, ...rest: PathSegment[]): PathSegment[] => ['lvs', 'services', index, ...rest];

/** The `networks` list, refusing overlaps: an address must belong to one network. */
function statedNetworks(inventory: Inventory, report: Report): Array<{ cidr: string; network: Ipv4Network }> {
  const stated: Array<{ cidr: string; network: Ipv4Network }> = [];
  (inventory.data.networks ?? []).forEach((cidr, index) => {
    const network = parseNetwork(cidr);
    const other = stated.find((entry) => networksOverlap(entry.network, network));
    if (other?.cidr === cidr) report(['networks', index], `network ${cidr} is listed twice; list each network once`);
    else if (other) report(['networks', index], `network ${cidr} overlaps ${other.cidr}; each address must belong to one stated network`);
    else stated.push({ cidr, network });
  });
  return stated;
}

/** The addresses the cluster itself moves between directors: its VIPs and the NAT gateway. */
function clusterAddresses(inventory: Inventory): Set<string> {
  const addresses = new Set<string>(Object.values(inventory.data.lvs.vips).map((vip) => vip.address));
  for (const service of inventory.data.lvs.services) {
    const literal = literalVip(inventory, service);
    if (literal !== undefined) addresses.add(literal);
  }
  const gateway = inventory.data.lvs.ha?.gateway?.address;
  if (gateway !== undefined) addresses.add(gateway);
  return addresses;
}

/** A service's VIP when written as an address rather than the name of an `lvs.vips` entry. */
function literalVip(inventory: Inventory, service: Inventory['data']['lvs']['services'][number]): string | undefined {
  return service.vip !== undefined && !Object.hasOwn(inventory.data.lvs.vips, service.vip) ? service.vip : undefined;
}

/** Who has an address, in words: the first host to have it. */
function ownerText(owners: ReadonlyMap<string, readonly AddressOwner[]>, address: string): string | undefined {
  const owner = owners.get(address)?.[0];
  return owner && `the ${owner.as} of host ${owner.host}`;
}

function vipsThatAreHostAddresses(inventory: Inventory, owners: ReadonlyMap<string, readonly AddressOwner[]>, report: Report): void {
  const gateway = inventory.data.lvs.ha?.gateway?.address;
  const gatewayOwner = gateway === undefined ? undefined : ownerText(owners, gateway);
  if (gatewayOwner) {
    report(['lvs', 'ha', 'gateway', 'address'], `gateway ${gateway} is ${gatewayOwner}; the gateway moves between the directors with the VIPs (VRRP), so it must be an address no host has`);
  }
  const gatewayVip = gateway === undefined ? undefined : inventory.services.find((service) => service.address === gateway);
  if (gatewayVip !== undefined) {
    report(
      ['lvs', 'ha', 'gateway', 'address'],
      `gateway ${gateway} is also the VIP of service ${gatewayVip.name}: the VIPs' VRRP instance and the gateway's would both add it, on two interfaces, and whichever director is master of either would answer for it; the real servers' gateway is an address of its own`,
    );
  }
  const why = 'a VIP must be an address no host has: the director adds it as a /32 and DR and TUN real servers hold it too, so the host would lose its own address to the cluster';
  for (const [name, vip] of Object.entries(inventory.data.lvs.vips)) {
    const owner = ownerText(owners, vip.address);
    if (owner) report(['lvs', 'vips', name, 'address'], `VIP ${vip.address} is ${owner}; ${why}`);
  }
  const vipAddresses = new Set(inventory.services.flatMap((service) => (service.address !== undefined ? [service.address] : [])));
  inventory.data.lvs.services.forEach((service, index) => {
    const literal = literalVip(inventory, service);
    const owner = literal === undefined ? undefined : ownerText(owners, literal);
    if (owner) report(servicePath(index, 'vip'), `VIP ${literal} is ${owner}; ${why}`);
    const sorry = service.sorry_server?.address;
    if (sorry !== undefined && vipAddresses.has(sorry)) {
      report(servicePath(index, 'sorry_server', 'address'), `sorry server ${sorry} is a VIP of this cluster: the director would send the requests back to a virtual service; a sorry server is a machine's own address`);
    }
    service.real_servers.forEach((server, serverIndex) => {
      if (server.address !== undefined && vipAddresses.has(server.address)) {
        report(servicePath(index, 'real_servers', serverIndex, 'address'), `real server address ${server.address} is a VIP of this cluster; a real server is reached at an address of its own`);
      }
    });
  });
}

/**
 * A director's dip is the gateway of its NAT real servers (their default route): the address of a
 * machine, and of this director, not of another host (that host would receive every reply). Said
 * at the line that sets it, once however many directors share it.
 */
function directorDips(inventory: Inventory, report: Report): void {
  const said = new Set<string>();
  const dips = new Map<string, { director: string; origin: readonly PathSegment[] }>();
  const say = (origin: readonly PathSegment[], message: string): void => {
    if (said.has(`${origin.join('.')}\0${message}`)) return;
    said.add(`${origin.join('.')}\0${message}`);
    report([...origin], message);
  };
  for (const director of new Set(inventory.services.flatMap((service) => service.directors))) {
    const entry = own(inventory.data.hosts, director);
    const origin = entry && dipOrigin(inventory, director, entry);
    if (!entry || !origin) continue;
    const dip = dipOf(inventory, director, entry);
    // Not an address at all: the role variable's own check says so.
    if (!isIpv4(dip) || dip === entry.address) continue;
    const notUnicast = unicastProblem(dip, false);
    const other = dips.get(dip);
    if (notUnicast) say(origin, `dip ${dip} of director ${director} ${notUnicast}; NAT real servers route their replies through the dip, so it must be an address the director holds`);
    else if (other) say(origin, `dip ${dip} of director ${director} is also the dip of director ${other.director}: two machines cannot hold one address (give each director its own)`);
    else dips.set(dip, { director, origin });
  }
  if (dips.size === 0) return;
  for (const name in inventory.data.hosts) {
    const dip = dips.get(inventory.data.hosts[name]!.address);
    if (dip && dip.director !== name) {
      say(dip.origin, `dip ${inventory.data.hosts[name]!.address} of director ${dip.director} is the address of host ${name}: NAT real servers would send their replies to ${name}, not through the director`);
    }
  }
}

/** Every VIP address with the directors that hold it, over all its services. */
function directorsByVip(services: readonly ResolvedService[]): Map<string, Set<string>> {
  const byVip = new Map<string, Set<string>>();
  for (const service of services) {
    if (service.address === undefined) continue;
    const directors = byVip.get(service.address) ?? new Set<string>();
    service.directors.forEach((director) => directors.add(director));
    byVip.set(service.address, directors);
  }
  return byVip;
}

function directorsPerVip(inventory: Inventory, report: Report): void {
  const seen = new Map<string, Set<string>>();
  inventory.services.forEach((service, index) => {
    if (service.address === undefined) return;
    const directors = seen.get(service.address) ?? new Set<string>();
    const before = directors.size;
    service.directors.forEach((director) => directors.add(director));
    seen.set(service.address, directors);
    if (directors.size < 2 || before >= 2) return;
    const raw = inventory.data.lvs.services[index];
    const where = raw?.directors !== undefined ? servicePath(index, 'directors') : servicePath(index, 'vip');
    const names = [...directors];
    report(
      where,
      `VIP ${service.address} has ${names.length} directors (${names.join(', ')}): each would hold it and answer ARP for it, and clients would reach ` +
        `whichever answered last. A director pair needs VRRP to decide which one holds the VIP: configure \`lvs.ha\` (keepalived), ` +
        `or give the VIP one director (\`directors: [${names[0] ?? ''}]\`)`,
    );
  });
}

function realServersThatDirect(inventory: Inventory, report: Report): void {
  const byVip = directorsByVip(inventory.services);
  inventory.services.forEach((service, index) => {
    const holders = service.forwarding === 'nat' ? new Set(service.directors) : service.address !== undefined ? byVip.get(service.address) : undefined;
    service.realServers.forEach((server, serverIndex) => {
      if (server.host === undefined || !holders?.has(server.host)) return;
      const role =
        service.forwarding === 'nat'
          ? 'the NAT real-server role would route its default route through itself'
          : `the ${service.forwarding.toUpperCase()} real-server role would put VIP ${service.address ?? ''} on ${service.forwarding === 'dr' ? 'lo' : 'tunl0'} and suppress its ARP replies, while as director it must answer ARP for that VIP`;
      report(
        servicePath(index, 'real_servers', serverIndex, 'host'),
        `real server ${server.host} is also a director of this VIP: ${role}. For a director that serves too (localnode), list it by \`address: ${server.address}\` without \`host\``,
      );
    });
  });
}

/**
 * A router (group `routers`) routes every VIP to the directors' LAN; a DR or TUN real server holds
 * its service's VIP on lo or tunl0. One host both would take the clients' packets for that VIP
 * itself, and no director would balance them.
 */
function realServersThatRoute(inventory: Inventory, report: Report): void {
  const routers = new Set(inventory.groups.get('routers') ?? []);
  if (routers.size === 0) return;
  inventory.services.forEach((service, index) => {
    if (service.forwarding === 'nat' || service.address === undefined) return;
    service.realServers.forEach((server, serverIndex) => {
      if (server.host === undefined || !routers.has(server.host)) return;
      report(
        servicePath(index, 'real_servers', serverIndex, 'host'),
        `real server ${server.host} is also a router (group routers): the router role routes VIP ${service.address} to the directors, while the ${service.forwarding.toUpperCase()} real-server role puts it on ${service.forwarding === 'dr' ? 'lo' : 'tunl0'}, so this host would take every client's packet for the VIP itself and no director would balance it; give the routers and the real servers different hosts`,
      );
    });
  });
}

/** The stated network holding an address (the longest prefix); undefined when none does. */
function networkHolding(networks: ReadonlyArray<{ cidr: string; network: Ipv4Network }>, address: string): { cidr: string; network: Ipv4Network } | undefined {
  return networks
    .filter((entry) => networkContains(entry.network, address))
    .sort((a, b) => b.network.prefixLength - a.network.prefixLength)[0];
}

/** With stated networks, no VIP, host, real or sorry server address or dip may be a network's own address or its broadcast address. */
function networkEdges(inventory: Inventory, networks: ReadonlyArray<{ cidr: string; network: Ipv4Network }>, report: Report): void {
  if (networks.length === 0) return;
  const check = (address: string, path: PathSegment[], what: string): void => {
    const home = isIpv4(address) ? networkHolding(networks, address) : undefined;
    if (!home || isUsableHost(home.network, address)) return;
    const edge = intToIpv4(home.network.base) === address ? 'network address' : 'broadcast address';
    report(path, `${what} ${address} is the ${edge} of ${home.cidr}, which no machine can hold; choose an address inside the network`);
  };
  for (const [name, vip] of Object.entries(inventory.data.lvs.vips)) check(vip.address, ['lvs', 'vips', name, 'address'], 'VIP');
  for (const name in inventory.data.hosts) check(inventory.data.hosts[name]!.address, ['hosts', name, 'address'], 'host address');
  inventory.data.lvs.services.forEach((service, index) => {
    service.real_servers.forEach((server, serverIndex) => {
      if (server.address !== undefined) check(server.address, servicePath(index, 'real_servers', serverIndex, 'address'), 'real server address');
    });
    if (service.sorry_server) check(service.sorry_server.address, servicePath(index, 'sorry_server', 'address'), 'sorry server');
  });
  const checked = new Set<string>();
  for (const director of new Set(inventory.services.flatMap((service) => service.directors))) {
    const entry = own(inventory.data.hosts, director);
    const origin = entry && dipOrigin(inventory, director, entry);
    if (!entry || !origin || checked.has(origin.join('.'))) continue;
    checked.add(origin.join('.'));
    check(dipOf(inventory, director, entry), [...origin], `dip of director ${director}`);
  }
}

/**
 * With `networks` stated, a DR or NAT real server in none of them would pass the two LAN checks
 * unchecked: they ask which stated network holds it. Either its address is a slip or a network is
 * missing from the list; both are for the operator to say. A TUN real server may be anywhere (IPIP
 * is routed), and one at its director's own address (localnode) or at loopback is the director
 * itself. Said once per address, at its first service: the fix is the same for all.
 */
function realServersOffNetworks(inventory: Inventory, networks: ReadonlyArray<{ cidr: string; network: Ipv4Network }>, report: Report): void {
  if (networks.length === 0) return;
  const said = new Set<string>();
  inventory.services.forEach((service, index) => {
    if (service.forwarding === 'tun') return;
    for (const server of forwardedTo(service, index)) {
      if (!isIpv4(server.address) || isLoopback(server.address) || said.has(server.address) || networkHolding(networks, server.address)) continue;
      const directorsOwn = service.directors.flatMap((director) => [own(inventory.data.hosts, director)?.address, directorAddress(inventory, director)]);
      if (directorsOwn.includes(server.address)) continue;
      said.add(server.address);
      const what = `${service.forwarding === 'dr' ? 'DR' : 'NAT'} ${server.what} ${server.host === undefined ? server.address : `${server.host} (${server.address})`}`;
      const need = service.forwarding === 'dr' ? 'share a LAN with its director' : "reach its director's dip on its own network";
      report(
        server.path,
        `${what} is in none of the stated networks (${networks.map((entry) => entry.cidr).join(', ')}), so lvsprov cannot check that it can ${need}: ` +
          'add its network to `networks`, or correct its address',
      );
    }
  });
}

function natGateways(inventory: Inventory, networks: ReadonlyArray<{ cidr: string; network: Ipv4Network }>, report: Report): void {
  const floating = inventory.data.lvs.ha?.gateway !== undefined;
  const gatewayOf = new Map<string, { director: string; gateway: string }>();
  const offLink = new Set<string>();
  inventory.services.forEach((service, index) => {
    if (service.forwarding !== 'nat') return;
    for (const server of forwardedTo(service, index)) {
      const path = server.path;
      for (const director of service.directors) {
        const gateway = natGateway(inventory, director);
        if (!isIpv4(gateway)) continue;
        const home = networkHolding(networks, server.address);
        // Said once per server and gateway, at its first service: the fix is the same for all.
        // Under lvs.ha the gateway is lvs.ha.gateway's, whose network ha-model checks.
        if (!floating && home && !networkContains(home.network, gateway) && !offLink.has(`${server.address}>${gateway}`)) {
          offLink.add(`${server.address}>${gateway}`);
          report(
            path,
            `NAT ${server.what} ${server.address} routes its replies through director ${director} at ${gateway} (its dip var, or its address), which is not on ` +
              `the ${server.what}'s network ${home.cidr}; a gateway must be on-link: give ${director} a \`dip\` var on ${home.cidr}`,
          );
        }
        const first = server.host === undefined ? undefined : gatewayOf.get(server.host);
        if (server.host !== undefined && first && first.gateway !== gateway) {
          report(
            path,
            `real server ${server.host} serves NAT for director ${first.director} (${first.gateway}) and director ${director} (${gateway}), but a host has one ` +
              `default route: replies to ${director}'s clients would leave through ${first.director}`,
          );
        } else if (server.host !== undefined && !first) gatewayOf.set(server.host, { director, gateway });
      }
    }
  });
}

function drLans(inventory: Inventory, networks: ReadonlyArray<{ cidr: string; network: Ipv4Network }>, report: Report): void {
  const apart = new Set<string>();
  inventory.services.forEach((service, index) => {
    if (service.forwarding !== 'dr') return;
    for (const server of forwardedTo(service, index)) {
      const home = networkHolding(networks, server.address);
      if (!home) continue;
      for (const director of service.directors) {
        const held = [own(inventory.data.hosts, director)?.address, directorAddress(inventory, director)].filter((address): address is string => isIpv4(address));
        if (held.length === 0 || held.some((address) => networkContains(home.network, address)) || apart.has(`${server.address}>${director}`)) continue;
        apart.add(`${server.address}>${director}`);
        report(
          server.path,
          `DR ${server.what} ${server.address} is on ${home.cidr}, where director ${director} has no address (${[...new Set(held)].join(', ')}): direct routing ` +
            `rewrites only the MAC address, so a director reaches its real servers on their own LAN; use forwarding tun across networks`,
        );
      }
    }
  });
}
