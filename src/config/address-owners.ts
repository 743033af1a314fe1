import { isIpv4 } from '../net/ipv4.js';
import { dipOf, type DipScope } from './dip.js';

/** A host that has an address: as its own `address`, or as the `dip` it would route NAT replies on. */
export interface AddressOwner {
  readonly host: string;
  readonly as: 'address' | 'dip';
}

/**
 * The hosts that have each of `addresses`, in inventory order. Only the addresses asked about are
 * kept: an inventory has few VIPs and real-server addresses, and may have 75,000 hosts.
 */
export function addressOwners(inventory: DipScope, addresses: ReadonlySet<string>): Map<string, AddressOwner[]> {
  const owners = new Map<string, AddressOwner[]>();
  if (addresses.size === 0) return owners;
  const add = (address: string, owner: AddressOwner): void => {
    if (addresses.has(address) && isIpv4(address)) owners.set(address, [...(owners.get(address) ?? []), owner]);
  };
  const hosts = inventory.data.hosts;
  for (const name in hosts) {
    const host = hosts[name]!;
    add(host.address, { host: name, as: 'address' });
    const dip = dipOf(inventory, name, host);
    if (dip !== host.address) add(dip, { host: name, as: 'dip' });
  }
  return owners;
}
