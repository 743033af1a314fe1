import type { ResolvedService } from './lvs-model.js';
import type { PathSegment } from './yaml-source.js';

/** A machine IPVS forwards a service's requests to: one of its real servers, or its sorry server. */
export interface ForwardTarget {
  readonly address: string;
  /** The inventory host a real server entry names. */
  readonly host?: string;
  readonly what: 'real server' | 'sorry server';
  /** The entry to change. */
  readonly path: PathSegment[];
}

/**
 * The service's real servers, then its sorry server: keepalived sends to a sorry server by the
 * service's forwarding method, so it needs the same path to and from its director as a real server.
 */
export function forwardedTo(service: ResolvedService, index: number): ForwardTarget[] {
  const targets: ForwardTarget[] = service.realServers.map((server, serverIndex) => ({
    address: server.address,
    ...(server.host !== undefined ? { host: server.host } : {}),
    what: 'real server',
    path: ['lvs', 'services', index, 'real_servers', serverIndex],
  }));
  if (service.sorryServer) targets.push({ address: service.sorryServer.address, what: 'sorry server', path: ['lvs', 'services', index, 'sorry_server', 'address'] });
  return targets;
}
