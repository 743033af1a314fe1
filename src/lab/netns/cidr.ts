import { isIPv4 } from 'node:net';

// IPv4 arithmetic for lab specs. Lab addresses must come from the documentation and benchmarking
// ranges only, so that a lab can never shadow an address that exists on a real network.

export interface Network {
  /** The network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefixLength: number;
}

export const labRanges: readonly string[] = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '198.18.0.0/15'];

export function ipToInt(address: string): number {
  if (!isIPv4(address)) throw new Error(`not an IPv4 address: ${address}`);
  return address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function intToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** Parse `a.b.c.d/n`; host bits must be zero so a typo in the prefix is not silently widened. */
export function parseNetwork(cidr: string): Network {
  const [address, length, ...rest] = cidr.split('/');
  const prefixLength = Number(length);
  if (rest.length > 0 || address === undefined || !/^\d{1,2}$/.test(length ?? '') || prefixLength > 32) {
    throw new Error(`not an IPv4 network: ${cidr}`);
  }
  const value = ipToInt(address);
  const base = (value & maskOf(prefixLength)) >>> 0;
  if (base !== value) throw new Error(`${cidr} has host bits set; the network is ${intToIp(base)}/${prefixLength}`);
  return { base, prefixLength };
}

export function networkContains(network: Network, address: string): boolean {
  return ((ipToInt(address) & maskOf(network.prefixLength)) >>> 0) === network.base;
}

/** True when `inner` lies entirely inside `outer`. */
export function networkWithin(inner: Network, outer: Network): boolean {
  return inner.prefixLength >= outer.prefixLength && networkContains(outer, intToIp(inner.base));
}

export function networksOverlap(a: Network, b: Network): boolean {
  return networkWithin(a, b) || networkWithin(b, a);
}

/** The network and broadcast addresses cannot be given to a host (for prefixes up to /30). */
export function isUsableHost(network: Network, address: string): boolean {
  if (!networkContains(network, address)) return false;
  if (network.prefixLength >= 31) return true;
  const value = ipToInt(address);
  const broadcast = network.base + 2 ** (32 - network.prefixLength) - 1;
  return value !== network.base && value !== broadcast;
}

export function isLabNetwork(network: Network): boolean {
  return labRanges.some((range) => networkWithin(network, parseNetwork(range)));
}
