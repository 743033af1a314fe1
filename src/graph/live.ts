import { hostPort } from '../resources/ipvs/model.js';
import type { ServerState } from '../status/model.js';
import type { StatusReport } from '../status/report.js';
import { stateRank } from './style.js';
import type { Topology, TopologyVrrpDirector } from './topology.js';

// What `status --graph` adds to the picture: each real server's live state per service, from the
// status report (the worst over the directors of a service), and each director's live part in
// its VIPs' VRRP instances (who holds them now, not who the inventory starts as master).

export interface LiveLink {
  readonly state: ServerState;
  readonly activeConns?: number;
}

/** By `${serviceKey} ${endpoint}`, e.g. `TCP 198.51.100.50:80 192.0.2.11:80`. */
export type LiveLinks = ReadonlyMap<string, LiveLink>;

export function liveLinkKey(serviceKey: string, address: string, port: number): string {
  return `${serviceKey} ${hostPort(address, port)}`;
}

export function liveLinks(report: StatusReport): LiveLinks {
  const links = new Map<string, LiveLink>();
  for (const host of report.hosts) {
    for (const service of host.director?.services ?? []) {
      for (const server of service.servers) {
        const key = `${service.key} ${server.endpoint}`;
        const previous = links.get(key);
        const activeConns = (previous?.activeConns ?? 0) + (server.activeConns ?? 0);
        const state = previous && stateRank.indexOf(previous.state) < stateRank.indexOf(server.state) ? previous.state : server.state;
        links.set(key, { state, ...(server.activeConns !== undefined || previous?.activeConns !== undefined ? { activeConns } : {}) });
      }
    }
  }
  return links;
}

/** The topology with each VRRP director's part as `report` read it; a director it could not read is `unread`. */
export function withLiveVrrp(topology: Topology, report: StatusReport): Topology {
  return {
    ...topology,
    vips: topology.vips.map((vip) => {
      if (!vip.vrrp) return vip;
      const { id } = vip.vrrp;
      const directors = vip.vrrp.directors.map((director): TopologyVrrpDirector => {
        const read = report.hosts.find((host) => host.host === director.host)?.director?.vrrp?.find((instance) => instance.virtualRouterId === id);
        return { ...director, live: read?.state ?? 'unread' };
      });
      return { ...vip, vrrp: { ...vip.vrrp, directors } };
    }),
  };
}
