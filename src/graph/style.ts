import type { ServerState } from '../status/model.js';
import type { TopologyService, TopologyServiceLink, TopologyVrrpDirector } from './topology.js';

// Colours and words shared by the DOT and Mermaid pictures, so both tell the same story.

// Graphviz in wasm measures text with built-in metrics, which it has for Helvetica (ASCII only).
export const FONT = 'Helvetica';

export const palette = {
  ink: '#2b2f36',
  muted: '#6b7280',
  client: { fill: '#f3f4f6', line: '#9ca3af' },
  router: { fill: '#fdf0d5', line: '#d4a24c' },
  director: { fill: '#dbe8f7', line: '#5b8ac6' },
  vip: { fill: '#f6f9fd', line: '#8fb3e0' },
  service: { head: '#2f5f9a', fill: '#ffffff', line: '#9db8da' },
  realServer: { fill: '#eaf5ec', line: '#6aa77c' },
  sessionStore: { fill: '#f1ebf8', line: '#9a7cc4' },
  legend: { fill: '#fbfbfb', line: '#d1d5db' },
} as const;

export const forwardingColour: Record<TopologyService['forwarding'], string> = { dr: '#2f6db5', tun: '#8a4fb5', nat: '#d9822b' };

export const forwardingWord: Record<TopologyService['forwarding'], string> = { dr: 'DR (direct routing)', tun: 'TUN (IPIP tunnel)', nat: 'NAT (masquerading)' };

export const stateColour: Record<ServerState, { fill: string; line: string }> = {
  active: { fill: '#d7f0dd', line: '#2f9e55' },
  quiesced: { fill: '#fdf1cf', line: '#d99a0b' },
  absent: { fill: '#fbdcdc', line: '#d03b3b' },
  undeclared: { fill: '#ececec', line: '#8a8a8a' },
};

/** Worst first: a real server absent from one service shows as absent. */
export const stateRank: readonly ServerState[] = ['absent', 'quiesced', 'undeclared', 'active'];

/** `TCP :443`, `UDP :53`, `FWM 1 (TCP 80, 443)`, `TCP *` for a catch-all port. */
export function servicePorts(service: TopologyService): string {
  if (service.protocol === 'fwmark') return `FWM ${service.fwmark ?? '?'}${service.ports ? ` (TCP ${service.ports.join(', ')})` : ''}`;
  return `${service.protocol.toUpperCase()} ${service.port === 0 ? 'all ports' : `:${service.port}`}`;
}

/** `persistent 600 s per /24`, or undefined. */
export function persistenceWords(service: TopologyService): string | undefined {
  const persistence = service.persistence;
  if (!persistence) return undefined;
  const prefix = persistence.netmask === undefined ? undefined : persistence.netmask.split('.').reduce((bits, octet) => bits + (Number(octet).toString(2).match(/1/g)?.length ?? 0), 0);
  return `persistent ${persistence.timeout} s${prefix !== undefined && prefix < 32 ? ` per /${prefix}` : ''}`;
}

/** What a session store runs, on its card: `memcached :11211`. */
export function sessionStoreWords(port: number): string {
  return `memcached :${port}`;
}

/**
 * A service-to-real-server link's words: `w 4`, the real server's own port where the service
 * forwards to another one (`w 4 to :8081`, a NAT port mapping), then the live active connections.
 */
export function linkWords(service: TopologyService, link: TopologyServiceLink, activeConns?: number): string {
  const port = link.port !== service.port && link.port !== 0 ? ` to :${link.port}` : '';
  return `w ${link.weight}${port}${activeConns !== undefined ? `, ${activeConns} active` : ''}`;
}

/**
 * A director's part in a VIP's VRRP instance under lvs.ha, on its edge to the VIP: `VRRP 51
 * master, prio 150` (the director the inventory starts as master), `backup, prio 140`, with
 * `nopreempt` where it does not take the VIPs back. Without it both directors look alike,
 * while only one holds the VIPs at a time. With the live state (status --graph), the part it
 * plays now: after a failover the holder is the configured backup (`VRRP 51 master, prio 140
 * (configured backup)`).
 */
export function vrrpWords(id: number, director: TopologyVrrpDirector): string {
  const configured = director.master ? 'master' : 'backup';
  const tail = `, prio ${director.priority}${director.nopreempt ? ', nopreempt' : ''}`;
  if (director.live === undefined) return `VRRP ${id} ${configured}${tail}`;
  // Live (status --graph): what the director showed, the inventory's part beside it where they differ.
  const now = liveVrrpWords[director.live];
  return `VRRP ${id} ${now}${tail}${now === configured ? '' : ` (configured ${configured})`}`;
}

/** A director's live part in a VRRP instance, as status read it (see status/vrrp.ts). */
const liveVrrpWords: Record<NonNullable<TopologyVrrpDirector['live']>, string> = {
  master: 'master',
  backup: 'backup',
  partial: 'part master',
  stopped: 'keepalived stopped',
  leftover: 'keepalived stopped, VIPs left on it',
  unknown: 'state unknown',
  unread: 'not read',
};

/** The line on the card of a director that no service names. */
export const idleDirectorWords = 'holds no VIP';
