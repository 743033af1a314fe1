// The one IPv4 grammar and arithmetic of lvsprov: inventory, resources, verify, lab and bench all
// use it. Only canonical dotted quads are addresses: four decimal numbers 0-255 without leading
// zeros. The C resolver (inet_aton) reads `203.0.113` as 203.0.0.113, `203.0.113.010` as
// 203.0.113.8 and `0x7f.1` as 127.0.0.1; such forms would reach a host as another address than the
// operator wrote, so they are refused instead of interpreted. Netmasks and prefixes are checked
// before any arithmetic is done on them.

const octet = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const dottedQuad = new RegExp(`^${octet}(?:\\.${octet}){3}$`);

export function isIpv4(text: unknown): text is string {
  return typeof text === 'string' && dottedQuad.test(text);
}

/** What is wrong with white space in an address or name; a line break most often comes from a block scalar. */
export function blankProblem(text: string): string | undefined {
  if (/[\n\r]/.test(text)) return 'contains a line break (a block scalar, | or >, ends its value with one: write the value after the colon instead)';
  if (/\s/.test(text)) return 'contains spaces';
  return undefined;
}

/** Why `text` is not a canonical IPv4 address, in words an operator can act on; undefined when it is one. */
export function ipv4Problem(text: string): string | undefined {
  if (dottedQuad.test(text)) return undefined;
  const blank = blankProblem(text);
  if (blank) return blank;
  if (/^[^:]+:\d*$/.test(text)) return 'carries a port (host:port); an address is the address alone';
  if (text.includes(':')) return 'is an IPv6 address; lvsprov manages IPv4 only';
  if (text.endsWith('.')) return 'ends with a dot';
  if (/^\d+$/.test(text)) return 'is a bare number, not a dotted quad';
  const parts = text.split('.');
  if (parts.some((part) => /^0x/i.test(part))) return 'has a hexadecimal part; write four decimal numbers';
  if (parts.some((part) => part === '')) return 'has an empty part';
  if (!parts.every((part) => /^\d+$/.test(part))) return 'is not four decimal numbers';
  if (parts.length !== 4) return `has ${parts.length} parts, not 4 (resolvers read short forms as another address)`;
  if (parts.some((part) => part.length > 1 && part.startsWith('0'))) return 'has a leading zero (resolvers read it as octal)';
  return 'has a part above 255';
}

/**
 * Why a canonical dotted quad cannot be the address of one machine (a host, a VIP, a real server);
 * undefined when it can. Loopback is allowed where the machine may be the one doing the sending
 * (a real server or sorry server on the director itself, an SSH tunnel to localhost).
 */
export function unicastProblem(address: string, allowLoopback: boolean): string | undefined {
  // The first number, read digit by digit: the host check runs this on every host of an inventory.
  let first = 0;
  for (let index = 0; address.charCodeAt(index) !== 46 && index < 3; index += 1) first = first * 10 + address.charCodeAt(index) - 48;
  if (first === 0) return 'is in 0.0.0.0/8 ("this network"), which no packet is sent to';
  if (first === 127 && !allowLoopback) return 'is a loopback address (127.0.0.0/8), which never leaves the host that holds it';
  if (first >= 224 && first <= 239) return 'is a multicast address (224.0.0.0/4), not the address of one machine';
  if (first >= 240) return address === '255.255.255.255' ? 'is the broadcast address' : 'is in the reserved range 240.0.0.0/4';
  return undefined;
}

/** Whether a canonical dotted quad is in 127.0.0.0/8, which never leaves the host that holds it. */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.');
}

/** The address as an unsigned 32-bit integer. */
export function ipv4ToInt(address: string): number {
  const value = ipv4Number(address);
  if (value === undefined) throw new Error(`not an IPv4 address: ${address}`);
  return value;
}

/** IPv4 addresses once each, in numeric order (as `nft list` prints a set, and people read a list). */
export function sortedIpv4(addresses: readonly string[]): string[] {
  return [...new Set(addresses)].sort((a, b) => ipv4ToInt(a) - ipv4ToInt(b));
}

/** `text` as an unsigned 32-bit integer when it is an IPv4 address, else undefined. */
export function ipv4Number(address: string): number | undefined {
  if (!isIpv4(address)) return undefined;
  // Digit by digit rather than split and Number: the unique-address check runs it on every host.
  let value = 0;
  let octet = 0;
  for (let index = 0; index < address.length; index += 1) {
    const code = address.charCodeAt(index);
    if (code === 46) {
      value = value * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + code - 48;
  }
  return value * 256 + octet;
}

export function intToIpv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`not a 32-bit address: ${value}`);
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function isPrefixLength(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 32;
}

/** The mask of a prefix length as an unsigned integer. */
export function prefixMask(prefix: number): number {
  if (!isPrefixLength(prefix)) throw new Error(`not a prefix length: ${prefix}`);
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function prefixToNetmask(prefix: number): string {
  return intToIpv4(prefixMask(prefix));
}

/** The prefix length of a dotted netmask with contiguous ones (255.255.255.0 -> 24); undefined for anything else. */
export function netmaskPrefix(mask: string): number | undefined {
  if (!isIpv4(mask)) return undefined;
  const value = ipv4ToInt(mask);
  const inverted = ~value >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return undefined;
  return 32 - Math.log2(inverted + 1);
}

/** Why `text` is not a dotted netmask; undefined when it is one. */
export function netmaskProblem(text: string): string | undefined {
  const prefix = /^\/?(\d{1,2})$/.exec(text.trim())?.[1];
  if (prefix !== undefined && isPrefixLength(Number(prefix))) return `is a prefix length; write it as the netmask ${prefixToNetmask(Number(prefix))}`;
  const problem = ipv4Problem(text);
  if (problem) return problem;
  if (netmaskPrefix(text) === undefined) return 'does not have contiguous ones';
  return undefined;
}

export interface Ipv4Network {
  /** The network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefixLength: number;
}

/** `a.b.c.d/n` split into a canonical address and a prefix length 0-32; undefined for anything else. */
export function parseCidr(text: string): { address: string; prefixLength: number } | undefined {
  const match = /^([^/]+)\/(0|[1-9]\d?)$/.exec(text);
  if (!match || !isIpv4(match[1]) || !isPrefixLength(Number(match[2]))) return undefined;
  return { address: match[1], prefixLength: Number(match[2]) };
}

/** The network an address lies in at a prefix length. */
export function networkOf(address: string, prefixLength: number): Ipv4Network {
  return { base: (ipv4ToInt(address) & prefixMask(prefixLength)) >>> 0, prefixLength };
}

export function formatNetwork(network: Ipv4Network): string {
  return `${intToIpv4(network.base)}/${network.prefixLength}`;
}

/** True when the network part of a CIDR is its network address (no host bits set). */
export function hasNoHostBits(cidr: { address: string; prefixLength: number }): boolean {
  return networkOf(cidr.address, cidr.prefixLength).base === ipv4ToInt(cidr.address);
}

/** Parse `a.b.c.d/n` as a network; host bits must be zero so a typo in the prefix is not silently widened. */
export function parseNetwork(text: string): Ipv4Network {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`not an IPv4 network: ${text}`);
  const network = networkOf(cidr.address, cidr.prefixLength);
  if (!hasNoHostBits(cidr)) throw new Error(`${text} has host bits set; the network is ${formatNetwork(network)}`);
  return network;
}

export function networkContains(network: Ipv4Network, address: string): boolean {
  return networkOf(address, network.prefixLength).base === network.base;
}

/** True when both addresses lie in one network of this prefix length. */
export function sameNetwork(a: string, b: string, prefixLength: number): boolean {
  return networkOf(a, prefixLength).base === networkOf(b, prefixLength).base;
}

/** True when `inner` lies entirely inside `outer`. */
export function networkWithin(inner: Ipv4Network, outer: Ipv4Network): boolean {
  return inner.prefixLength >= outer.prefixLength && networkContains(outer, intToIpv4(inner.base));
}

export function networksOverlap(a: Ipv4Network, b: Ipv4Network): boolean {
  return networkWithin(a, b) || networkWithin(b, a);
}

// Ranges no machine's address lies in (unicastProblem's), as networks.
const NOT_A_LAN: ReadonlyArray<{ network: Ipv4Network; what: string }> = [
  { network: { base: 0, prefixLength: 8 }, what: '0.0.0.0/8 ("this network")' },
  { network: { base: 0x7f000000, prefixLength: 8 }, what: 'the loopback range 127.0.0.0/8' },
  { network: { base: 0xe0000000, prefixLength: 3 }, what: 'the multicast and reserved ranges 224.0.0.0/3' },
];

/**
 * Why a network cannot be a subnet the cluster's machines live on; undefined when it can. One
 * that holds every address (0.0.0.0/0) or a range no machine's address is in would make every
 * check that asks "same subnet?" pass.
 */
export function subnetProblem(network: Ipv4Network): string | undefined {
  if (network.prefixLength === 0) return 'holds every IPv4 address, so it tells nothing: name the subnets the hosts are on, such as 192.0.2.0/24';
  const outside = NOT_A_LAN.find((range) => networksOverlap(network, range.network));
  return outside === undefined ? undefined : `overlaps ${outside.what}, where no machine's address lies: name the subnets the hosts are on, such as 192.0.2.0/24`;
}

/** The network and broadcast addresses cannot be given to a host (for prefixes up to /30). */
export function isUsableHost(network: Ipv4Network, address: string): boolean {
  if (!networkContains(network, address)) return false;
  if (network.prefixLength >= 31) return true;
  const value = ipv4ToInt(address);
  const broadcast = network.base + 2 ** (32 - network.prefixLength) - 1;
  return value !== network.base && value !== broadcast;
}
