import { realServerName, selector, serviceName, sortTable, type RealServer, type Table, type VirtualService } from '../ipvs/model.js';
import type { KeepalivedSpec, KeepalivedVirtualServer } from './schema.js';

// The IPVS table keepalived builds from a config, in the ipvs model's shape, so the live table
// (`ipvsadm -S -n`) can be compared with it. keepalived's checker process loads every virtual
// server on every director, master or backup; only the VIPs follow VRRP.

export function expectedService(server: KeepalivedVirtualServer): VirtualService {
  const fwmark = server.protocol === 'fwmark';
  return {
    protocol: server.protocol,
    address: fwmark ? '' : server.address ?? '',
    port: fwmark ? 0 : server.port,
    fwmark: fwmark ? server.fwmark ?? 0 : 0,
    scheduler: server.scheduler,
    ...(server.persistence ? { persistence: { timeout: server.persistence.timeout, netmask: server.persistence.netmask ?? '255.255.255.255' } } : {}),
    options: [],
    realServers: server.real_servers.map((real) => ({ address: real.address, port: real.port, forwarding: server.forwarding, weight: real.weight, options: [] })),
  };
}

export function expectedTable(spec: KeepalivedSpec): Table {
  return sortTable(spec.virtual_servers.map(expectedService));
}

/** A real server keepalived's check may have taken out: its service has a check, and the probe found it not answering. */
export interface CheckedServer {
  readonly service: string;
  /** ipvsadm's words for the service, e.g. ['-t', '198.51.100.50:80']. */
  readonly selector: readonly string[];
  readonly server: string;
  readonly address: string;
  readonly port: number;
}

/** The real servers the read script tests itself because the live table lacks them (or holds them at weight 0). */
export function serversToCheck(spec: KeepalivedSpec, live: Table): CheckedServer[] {
  const checked: CheckedServer[] = [];
  for (const server of spec.virtual_servers) {
    if (!server.health_check) continue;
    const wanted = expectedService(server);
    const current = live.find((service) => serviceName(service) === serviceName(wanted));
    for (const real of wanted.realServers) {
      const there = current?.realServers.find((candidate) => realServerName(candidate) === realServerName(real));
      if (there && (there.weight > 0 || real.weight === 0)) continue;
      checked.push({ service: serviceName(wanted), selector: selector(wanted), server: realServerName(real), address: real.address, port: server.health_check.port ?? real.port });
    }
  }
  return checked;
}

/** The sorry server keepalived put into the live service: it is there only while the service is below its quorum. */
export function sorryInUse(server: KeepalivedVirtualServer, current: VirtualService | undefined): RealServer | undefined {
  const sorry = server.sorry_server;
  return sorry && current?.realServers.find((real) => real.address === sorry.address && real.port === sorry.port && real.weight > 0);
}

/**
 * What the live table should hold once the servers down by health check are left as keepalived
 * keeps them: absent, or at weight 0 with inhibit_on_failure. A sorry server keepalived added
 * while every real server is down stays too. Everything else is what the config says. Below its
 * quorum (the sorry server in use) keepalived takes every real server out, answering ones too,
 * and puts them back once it regains it: the service's real servers are then what is live.
 */
export function wantedTable(spec: KeepalivedSpec, live: Table, down: ReadonlySet<string>): VirtualService[] {
  return spec.virtual_servers.map((server) => {
    const wanted = expectedService(server);
    const current = live.find((service) => serviceName(service) === serviceName(wanted));
    if (current && sorryInUse(server, current)) return { ...wanted, realServers: current.realServers };
    const key = (real: RealServer): string => `${serviceName(wanted)} ${realServerName(real)}`;
    const realServers = wanted.realServers.flatMap((real) => {
      if (!down.has(key(real))) return [real];
      const there = current?.realServers.find((candidate) => realServerName(candidate) === realServerName(real));
      return there ? [there] : [];
    });
    const sorry = server.sorry_server && current?.realServers.find((real) => real.address === server.sorry_server?.address && real.port === server.sorry_server.port);
    return { ...wanted, realServers: sorry ? [...realServers, sorry] : realServers };
  });
}
