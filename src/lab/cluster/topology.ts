import type { LoadedInventory } from '../../config/inventory.js';
import { hostVars, nearVariable, varLayers } from '../../config/host-vars.js';
import { own } from '../../config/own.js';
import { ConfigError, type ConfigProblem } from '../../errors.js';
import { formatNetwork, intToIpv4, isIpv4, networkContains, networkOf, parseNetwork } from '../../net/ipv4.js';
import type { LabSpec } from '../netns/spec.js';
import { addressProblems, clientSubnet } from './address-checks.js';

// The lab an inventory implies, as a netns lab spec plus what the spec cannot say (default
// routes, extra addresses). Pure: everything here is decided from the inventory alone.
//
// - Every host address implies its /24. Hosts get eth0 there; a host with a `dip` var on another
//   /24 (a NAT director's inside address) gets eth1 there too.
// - The one host of group `routers` joins the client subnet 203.0.113.0/24 and every "routed"
//   subnet: the directors' subnet on the interface its `lan_interface` var names, and each other
//   subnet that holds a host, except subnets whose hosts are all NAT-only real servers (those
//   route through the DIP, as NAT requires, so the router stays off them).
// - Hosts on a routed subnet get a default route via the router; a client host on the client
//   subnet gets two addresses (two clients of one /24) and the router as gateway.
// - The control namespace (where the jump sshd runs) is on every subnet at the highest free address.

export const labNetnsName = 'lab';
const clientAddresses = ['203.0.113.100', '203.0.113.101'] as const;
const netnsHostName = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export interface ClusterTopology {
  readonly spec: LabSpec;
  readonly router: string;
  readonly client: { readonly name: string; readonly addresses: readonly string[]; readonly gateway: string };
  readonly defaultRoutes: ReadonlyArray<{ readonly host: string; readonly via: string }>;
  /** Addresses beyond each interface's first (the netns lab gives an interface one). */
  readonly extraAddresses: ReadonlyArray<{ readonly host: string; readonly device: string; readonly cidr: string }>;
}

function network24(address: string): string {
  return formatNetwork(networkOf(address, 24));
}

function subnetName(cidr: string): string {
  return cidr === clientSubnet ? 'client' : `n${cidr.replace(/[./]/g, '-')}`;
}

/** The lowest free `ethN` for a host whose other devices are `taken`. */
function nextDevice(taken: Set<string>): string {
  for (let n = 0; ; n += 1) {
    if (!taken.has(`eth${n}`)) {
      taken.add(`eth${n}`);
      return `eth${n}`;
    }
  }
}

function freeAddress(cidr: string, used: Set<string>, preferred: readonly number[]): string | undefined {
  const base = parseNetwork(cidr).base;
  for (const offset of preferred) {
    const address = intToIpv4(base + offset);
    if (!used.has(address)) return address;
  }
  return undefined;
}

export function clusterTopology(inventory: LoadedInventory): ClusterTopology {
  const problems: ConfigProblem[] = [];
  const routers = inventory.groups.get('routers') ?? [];
  const router = routers[0];
  if (routers.length !== 1) {
    problems.push(inventory.source.problem(['groups'], `a lab needs exactly one host in group routers (it joins the client subnet ${clientSubnet} to the cluster); found ${routers.length}`));
  }
  problems.push(...addressProblems(inventory, router));
  const hostNames = Object.keys(inventory.data.hosts);
  for (const name of hostNames) {
    if (!netnsHostName.test(name) || name === 'control') {
      problems.push(inventory.source.problem(['hosts', name], `lab host names must be hostname labels (a-z 0-9 -, at most 32) other than "control": ${name}`, true));
    }
  }
  const lanInterface = router === undefined ? undefined : hostVars(inventory, router).lan_interface;
  if (router !== undefined && typeof lanInterface !== 'string') problems.push(lanInterfaceProblem(inventory, router));
  if (problems.length > 0 || router === undefined || typeof lanInterface !== 'string') throw new ConfigError(problems);

  const servers = (host: string): Set<string> =>
    new Set(inventory.services.filter((service) => service.realServers.some((server) => server.host === host)).map((service) => service.forwarding));
  const directors = [...new Set([...inventory.services.flatMap((service) => service.directors), ...(inventory.groups.get('directors') ?? [])])];
  const natOnly = (host: string): boolean => {
    const methods = servers(host);
    return !directors.includes(host) && methods.size > 0 && [...methods].every((method) => method === 'nat');
  };

  const used = new Set<string>(hostNames.map((name) => own(inventory.data.hosts, name)?.address ?? ''));
  const interfaces = new Map<string, Array<{ subnet: string; address: string; device: string }>>();
  const subnets = new Set<string>([clientSubnet]);
  const routed = new Set<string>([clientSubnet]);
  for (const name of hostNames) {
    if (name === router) continue;
    const address = own(inventory.data.hosts, name)?.address ?? '';
    const home = network24(address);
    const list = [{ subnet: home, address, device: 'eth0' }];
    subnets.add(home);
    if (!natOnly(name)) routed.add(home);
    const dip = own(inventory.data.hosts, name)?.vars.dip;
    if (typeof dip === 'string' && isIpv4(dip) && network24(dip) !== home) {
      list.push({ subnet: network24(dip), address: dip, device: 'eth1' });
      subnets.add(network24(dip));
      used.add(dip);
    }
    interfaces.set(name, list);
  }

  // The router: LAN (the directors' subnet) on lan_interface, then the client side, then the rest.
  const routerAddress = own(inventory.data.hosts, router)?.address ?? '';
  const directorHome = directors.map((name) => own(inventory.data.hosts, name)?.address).find((address) => address !== undefined);
  const lan = directorHome !== undefined ? network24(directorHome) : network24(routerAddress);
  routed.add(lan);
  subnets.add(lan);
  if (!routed.has(network24(routerAddress))) {
    throw new ConfigError([inventory.source.problem(['hosts', router, 'address'], `the router's address ${routerAddress} is on no subnet it routes (${[...routed].join(', ')})`)]);
  }
  const taken = new Set<string>([lanInterface]);
  const routerInterfaces: Array<{ subnet: string; address: string; device: string }> = [];
  for (const subnet of [lan, clientSubnet, ...[...routed].filter((cidr) => cidr !== lan && cidr !== clientSubnet).sort()]) {
    const own = networkContains(parseNetwork(subnet), routerAddress) ? routerAddress : undefined;
    const address = own ?? freeAddress(subnet, used, [1, 254, 253]);
    if (address === undefined) throw new ConfigError([inventory.source.problem(['hosts', router], `no free address for the router on ${subnet} (.1, .254 and .253 are taken)`)]);
    used.add(address);
    routerInterfaces.push({ subnet, address, device: subnet === lan ? lanInterface : nextDevice(taken) });
  }
  interfaces.set(router, routerInterfaces);
  const gateway = (subnet: string): string | undefined => routerInterfaces.find((iface) => iface.subnet === subnet)?.address;

  const clientName = ['client', 'labclient'].find((name) => !interfaces.has(name)) ?? 'labclient2';
  const clientGateway = gateway(clientSubnet) as string;
  const client = { name: clientName, addresses: clientAddresses.filter((address) => address !== clientGateway), gateway: clientGateway };
  for (const address of client.addresses) used.add(address);

  const ordered = [...subnets].sort((a, b) => (a === clientSubnet ? -1 : b === clientSubnet ? 1 : parseNetwork(a).base - parseNetwork(b).base));
  const spec: LabSpec = {
    name: labNetnsName,
    subnets: ordered.map((cidr) => {
      const controlAddress = freeAddress(cidr, used, [254, 253, 252, 251, 250]);
      if (controlAddress === undefined) throw new ConfigError([inventory.source.problem(['hosts'], `no free address on ${cidr} for the lab's control namespace (.250-.254 are taken)`)]);
      used.add(controlAddress);
      return { name: subnetName(cidr), cidr, controlAddress };
    }),
    hosts: [
      ...hostNames.map((name) => ({
        name,
        interfaces: (interfaces.get(name) ?? []).map((iface) => ({ subnet: subnetName(iface.subnet), address: iface.address, device: iface.device })),
      })),
      { name: client.name, interfaces: [{ subnet: 'client', address: client.addresses[0] as string, device: 'eth0' }] },
    ],
  };
  const defaultRoutes = [
    ...hostNames
      .filter((name) => name !== router)
      .flatMap((name) => {
        const home = interfaces.get(name)?.[0]?.subnet;
        const via = home === undefined || !routed.has(home) ? undefined : gateway(home);
        return via === undefined ? [] : [{ host: name, via }];
      }),
    { host: client.name, via: client.gateway },
  ];
  const extraAddresses = client.addresses.slice(1).map((address) => ({ host: client.name, device: 'eth0', cidr: `${address}/24` }));
  return { spec, router, client, defaultRoutes, extraAddresses };
}

/**
 * The router without lan_interface: where a near name is set (lan_interfce), the problem sits at
 * that key, since that is the line to mend; otherwise at the router.
 */
function lanInterfaceProblem(inventory: LoadedInventory, router: string): ConfigProblem {
  const message = `the router ${router} needs the var lan_interface (its interface towards the directors)`;
  const near = nearVariable(varLayers(inventory, router), 'lan_interface');
  if (near === undefined) return inventory.source.problem(['hosts', router], message);
  return inventory.source.problem(near.at, `${message}; ${near.name} is close: did you mean \`lan_interface\`?`, true);
}
