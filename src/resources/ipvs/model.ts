import { ipv4ToInt } from '../../net/ipv4.js';
import type { RealServerRef } from '../types.js';

// The IPVS table as `ipvsadm -S -n` shows it: virtual services, each with its real servers.
// Facts, predictions and save files are all this one shape, so comparing any two of them is
// comparing two tables.

export type Protocol = 'tcp' | 'udp' | 'sctp' | 'fwmark';
export type Forwarding = 'dr' | 'tun' | 'nat';

export interface RealServer {
  /** IPv4 dotted quad, or IPv6 text without brackets. */
  readonly address: string;
  readonly port: number;
  readonly forwarding: Forwarding;
  readonly weight: number;
  /** Tunnel options ipvsadm prints after the weight for GUE/GRE tunnels; empty for ipip, dr, nat. */
  readonly options: readonly string[];
}

export interface Persistence {
  readonly timeout: number;
  /** Dotted netmask for IPv4, prefix length for IPv6. */
  readonly netmask: string;
}

export interface VirtualService {
  readonly protocol: Protocol;
  /** The VIP; empty for a firewall-mark service. */
  readonly address: string;
  /** 0 for a firewall-mark service, and for a catch-all service. */
  readonly port: number;
  /** 0 unless protocol is fwmark. */
  readonly fwmark: number;
  /** Set only on a firewall-mark service printed with `-6`; others take their family from the address. */
  readonly ipv6?: boolean;
  readonly scheduler: string;
  readonly persistence?: Persistence;
  /** Options the spec does not model but ipvsadm prints after persistence: --pe NAME, -o, -b FLAGS. */
  readonly options: readonly string[];
  readonly realServers: readonly RealServer[];
}

export type Table = readonly VirtualService[];

export function isIpv6Service(service: VirtualService): boolean {
  return service.ipv6 === true || service.address.includes(':');
}

/** The netmask ipvsadm leaves out of its output: one client per persistence entry. */
export function defaultNetmask(service: VirtualService): string {
  return isIpv6Service(service) ? '128' : '255.255.255.255';
}

export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** How ipvsadm -L names a service, e.g. `TCP 198.51.100.50:80` or `FWM 1`; also its identity. */
export function serviceName(service: VirtualService): string {
  if (service.protocol === 'fwmark') return `FWM ${service.fwmark}${service.ipv6 === true ? ' IPv6' : ''}`;
  return `${service.protocol.toUpperCase()} ${hostPort(service.address, service.port)}`;
}

/** Which real server of which service a change adds or removes, for the engine's ordering and drains. */
export function serverRef(service: VirtualService, server: RealServer): RealServerRef {
  return { service: selector(service), server: realServerName(server), address: server.address, ...(service.protocol === 'fwmark' ? {} : { vip: service.address }) };
}

/** The words that select a service on an ipvsadm command line. */
export function selector(service: VirtualService): string[] {
  switch (service.protocol) {
    case 'fwmark':
      return ['-f', String(service.fwmark), ...(service.ipv6 === true ? ['-6'] : [])];
    case 'tcp':
      return ['-t', hostPort(service.address, service.port)];
    case 'udp':
      return ['-u', hostPort(service.address, service.port)];
    case 'sctp':
      return ['--sctp-service', hostPort(service.address, service.port)];
  }
}

export function realServerName(server: RealServer): string {
  return hostPort(server.address, server.port);
}

/** An address as the unsigned number ipvsadm compares (ntohl of each 32-bit word). */
export function addressValue(address: string): bigint {
  if (!address.includes(':')) return BigInt(ipv4ToInt(address));
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted !== undefined) {
    const low = addressValue(dotted);
    text = `${text.slice(0, -dotted.length)}${(low >> 16n).toString(16)}:${(low & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

const PROTOCOL_NUMBER: Record<Protocol, number> = { fwmark: 0, tcp: 6, udp: 17, sctp: 132 };

function compareKeys(a: readonly bigint[], b: readonly bigint[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0n;
    const y = b[i] ?? 0n;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

// ipvsadm sorts what the kernel returns (the kernel walks its service hash table, so its own order
// is hash order, neither insertion nor address order): libipvs ipvs_cmp_services compares
// <fwmark, af, protocol, address, port> and ipvs_cmp_dests <address, port>, each as the int
// difference of unsigned values (ipvsadm 1.31 libipvs/libipvs.c). That difference wraps when two
// values are 2^31 or more apart (10.0.0.1 against 192.0.2.1), which makes qsort's order depend on
// the kernel's. So the order below equals ipvsadm's whenever ipvsadm's own is well defined, and
// save files are compared as sets, never as text.
function serviceKey(service: VirtualService): bigint[] {
  const family = isIpv6Service(service) ? 10n : 2n;
  const address = service.protocol === 'fwmark' ? 0n : addressValue(service.address);
  return [BigInt(service.fwmark), family, BigInt(PROTOCOL_NUMBER[service.protocol]), address, BigInt(service.port)];
}

function realServerKey(server: RealServer): bigint[] {
  return [server.address.includes(':') ? 10n : 2n, addressValue(server.address), BigInt(server.port)];
}

/** The table in the order `ipvsadm -S -n` prints it. */
export function sortTable(table: Table): VirtualService[] {
  return [...table]
    .sort((a, b) => compareKeys(serviceKey(a), serviceKey(b)))
    .map((service) => ({
      ...service,
      realServers: [...service.realServers].sort((a, b) => compareKeys(realServerKey(a), realServerKey(b))),
    }));
}
