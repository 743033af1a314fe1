import { hostPort } from '../resources/ipvs/model.js';

// The live IPVS table as the kernel shows it in /proc/net/ip_vs (weights and connection counts,
// readable without ipvsadm), and the per-second rates of `ipvsadm -Ln --rate --exact` (only the
// netlink interface has them). Pure parsers of text read on a director.

export type LiveForwarding = 'dr' | 'tun' | 'nat' | 'local' | 'bypass';

export interface Rate {
  /** Connections per second, packets and bytes per second in and out, as the kernel estimates them. */
  readonly cps: number;
  readonly inPps: number;
  readonly outPps: number;
  readonly inBps: number;
  readonly outBps: number;
}

export interface LiveRealServer {
  readonly address: string;
  readonly port: number;
  readonly forwarding: LiveForwarding;
  readonly weight: number;
  readonly activeConns: number;
  readonly inactiveConns: number;
  readonly rate?: Rate;
}

export interface LiveService {
  readonly protocol: 'tcp' | 'udp' | 'sctp' | 'fwmark';
  /** Empty for a firewall-mark service. */
  readonly address: string;
  readonly port: number;
  readonly fwmark: number;
  readonly scheduler: string;
  /**
   * Set on a persistent service. /proc/net/ip_vs prints the timeout in jiffies (300 s is 75000 at
   * HZ=250), which cannot be turned into seconds from outside the kernel, so only the mask is kept.
   */
  readonly persistence?: { readonly netmask: string };
  readonly realServers: readonly LiveRealServer[];
  readonly rate?: Rate;
}

/** How ipvsadm -L names a service (`TCP 198.51.100.50:80`, `FWM 1`): the key status matches on. */
export function liveServiceKey(service: Pick<LiveService, 'protocol' | 'address' | 'port' | 'fwmark'>): string {
  return service.protocol === 'fwmark' ? `FWM ${service.fwmark}` : `${service.protocol.toUpperCase()} ${hostPort(service.address, service.port)}`;
}

const FORWARDING: Record<string, LiveForwarding> = { Route: 'dr', Tunnel: 'tun', Masq: 'nat', Local: 'local', Bypass: 'bypass' };
const PROTOCOL: Record<string, LiveService['protocol']> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp', FWM: 'fwmark' };

function hexAddress(hex: string): string {
  const value = parseInt(hex, 16);
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}

/** `C6336432:0050` or `[2001:db8::1]:0050` (addresses in hex or IPv6 text, ports in hex). */
function hexEndpoint(text: string): { address: string; port: number } {
  const v6 = /^\[([0-9a-fA-F:.]+)\]:([0-9A-F]{4})$/.exec(text);
  if (v6) return { address: v6[1] as string, port: parseInt(v6[2] as string, 16) };
  const v4 = /^([0-9A-F]{8}):([0-9A-F]{4})$/.exec(text);
  if (!v4) throw new Error(`unexpected endpoint ${text}`);
  return { address: hexAddress(v4[1] as string), port: parseInt(v4[2] as string, 16) };
}

/**
 * /proc/net/ip_vs, as the kernel's ip_vs_info_seq_show prints it: two header lines, then per
 * service `PROT ADDR:PORT SCHED [ops ][persistent TIMEOUT MASK]` (`FWM MARK SCHED ...` for a
 * firewall mark) followed by `  -> ADDR:PORT FORWARD WEIGHT ACTIVE INACTIVE` per real server.
 */
export function parseProcIpvs(text: string): LiveService[] {
  const services: Array<LiveService & { realServers: LiveRealServer[] }> = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '' || line.startsWith('IP Virtual Server') || line.startsWith('Prot ') || line.startsWith('  -> RemoteAddress')) continue;
    const fail = (): never => {
      throw new Error(`/proc/net/ip_vs line ${index + 1} is not understood: ${line.trim().slice(0, 120)}`);
    };
    const server = /^\s+->\s+(\S+)\s+(\w+)\s+(-?\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (server) {
      const current = services.at(-1) ?? fail();
      const forwarding = FORWARDING[server[2] as string] ?? fail();
      current.realServers.push({
        ...hexEndpoint(server[1] as string),
        forwarding,
        weight: Number(server[3]),
        activeConns: Number(server[4]),
        inactiveConns: Number(server[5]),
      });
      continue;
    }
    const service = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\S+)\s*(?:ops\s*)?(?:persistent\s+(\d+)\s+([0-9A-Fa-f]+))?\s*$/.exec(line) ?? fail();
    const protocol = PROTOCOL[service[1] as string] ?? fail();
    const endpoint = protocol === 'fwmark' ? { address: '', port: 0 } : hexEndpoint(service[2] as string);
    const persistence =
      service[4] !== undefined ? { netmask: endpoint.address.includes(':') ? String(parseInt(service[5] as string, 16)) : hexAddress(service[5] as string) } : undefined;
    services.push({
      protocol,
      ...endpoint,
      fwmark: protocol === 'fwmark' ? parseInt(service[2] as string, 16) : 0,
      scheduler: service[3] as string,
      ...(persistence ? { persistence } : {}),
      realServers: [],
    });
  }
  return services;
}

export interface RateTable {
  /** By liveServiceKey. */
  readonly services: ReadonlyMap<string, { readonly rate: Rate; readonly servers: ReadonlyMap<string, Rate> }>;
}

function rate(words: readonly string[]): Rate {
  const [cps, inPps, outPps, inBps, outBps] = words.map(Number) as [number, number, number, number, number];
  return { cps, inPps, outPps, inBps, outBps };
}

/** `ipvsadm -Ln --rate --exact`: a service line, then `  -> ADDR:PORT` lines, five numbers each. */
export function parseRates(text: string): RateTable {
  const services = new Map<string, { rate: Rate; servers: Map<string, Rate> }>();
  let current: { rate: Rate; servers: Map<string, Rate> } | undefined;
  for (const line of text.split('\n')) {
    const service = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    const server = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (service) {
      current = { rate: rate(service.slice(3)), servers: new Map() };
      services.set(`${service[1]} ${service[2]}`, current);
    } else if (server && current) {
      current.servers.set(server[1] as string, rate(server.slice(2)));
    }
  }
  return { services };
}

/** The table with each service's and real server's rate attached where ipvsadm gave one. */
export function withRates(table: readonly LiveService[], rates: RateTable): LiveService[] {
  return table.map((service) => {
    const found = rates.services.get(liveServiceKey(service));
    if (!found) return service;
    return {
      ...service,
      rate: found.rate,
      realServers: service.realServers.map((server) => {
        const serverRate = found.servers.get(hostPort(server.address, server.port));
        return serverRate ? { ...server, rate: serverRate } : server;
      }),
    };
  });
}
