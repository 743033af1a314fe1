import type { LoadedInventory } from '../../config/inventory.js';
import type { ConfigProblem } from '../../errors.js';
import { isIpv4, networkContains, parseNetwork } from '../../net/ipv4.js';
import { labRanges } from '../netns/lab-ranges.js';
import { guestNetwork } from '../qemu/qemu-args.js';

// A lab may only use the documentation and benchmarking ranges, and not the two blocks it keeps
// for itself: qemu's network inside the guest and the client subnet. Every address an inventory
// names (hosts, VIPs, real servers, DIPs) is checked, each problem pointing at its YAML node.

export const clientSubnet = '203.0.113.0/24';
const reserved = [
  { network: parseNetwork(guestNetwork.net), why: "is qemu's network inside the lab guest" },
];
const ranges = labRanges.map((range) => parseNetwork(range));

type Where = ReadonlyArray<string | number>;

export function addressProblems(inventory: LoadedInventory, router: string | undefined): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const check = (address: unknown, where: Where, what: string): void => {
    if (typeof address !== 'string' || !isIpv4(address)) {
      problems.push(inventory.source.problem(where, `${what} must be an IPv4 address in a lab (found ${JSON.stringify(address)})`));
      return;
    }
    if (!ranges.some((range) => networkContains(range, address))) {
      problems.push(inventory.source.problem(where, `${what} ${address} is outside the lab ranges ${labRanges.join(', ')}; a lab uses documentation and benchmarking addresses only`));
      return;
    }
    const clash = reserved.find((block) => networkContains(block.network, address));
    if (clash) problems.push(inventory.source.problem(where, `${what} ${address}: ${guestNetwork.net} ${clash.why}`));
  };
  const client = parseNetwork(clientSubnet);
  for (const [name, host] of Object.entries(inventory.data.hosts)) {
    check(host.address, ['hosts', name, 'address'], `host ${name}'s address`);
    if (isIpv4(host.address) && name !== router && networkContains(client, host.address)) {
      problems.push(inventory.source.problem(['hosts', name, 'address'], `${host.address} is in ${clientSubnet}, the lab's client subnet; only the router may have an address there`));
    }
    if (host.vars.dip !== undefined) check(host.vars.dip, ['hosts', name, 'vars', 'dip'], `host ${name}'s dip`);
  }
  for (const [name, vip] of Object.entries(inventory.data.lvs.vips)) {
    check(vip.address, ['lvs', 'vips', name, 'address'], `VIP ${name}`);
    if (isIpv4(vip.address) && networkContains(client, vip.address)) {
      // The client would ARP for a VIP on its own subnet, and nobody there answers.
      problems.push(inventory.source.problem(['lvs', 'vips', name, 'address'], `VIP ${vip.address} is in the client subnet ${clientSubnet}; the client must reach it through the router`));
    }
  }
  inventory.data.lvs.services.forEach((service, index) => {
    if (service.vip !== undefined && isIpv4(service.vip)) check(service.vip, ['lvs', 'services', index, 'vip'], 'the VIP');
    service.real_servers.forEach((server, serverIndex) => {
      if (server.address !== undefined) check(server.address, ['lvs', 'services', index, 'real_servers', serverIndex, 'address'], 'real server address');
    });
  });
  return problems;
}
