import type { ResolvedService } from '../config/lvs-model.js';
import { realServerTestPort, serviceTestPort } from '../config/test-port.js';

// Which virtual services verify can send requests to, on which port, and which pages it fetches
// directly. The test page is HTTP, so only TCP services with an address are requested.

export interface RequestTarget {
  /** Index of the service in the inventory's list, which is also its index in the client script. */
  readonly index: number;
  readonly service: ResolvedService;
  readonly port: number;
  readonly url: string;
  readonly notes: readonly string[];
}

export interface SkippedService {
  readonly index: number;
  readonly service: ResolvedService;
  readonly reason: string;
}

export interface PageTarget {
  readonly host?: string;
  readonly address: string;
  readonly port: number;
  readonly url: string;
  /**
   * Where the page is fetched from: the client, or for a NAT real server a director of its
   * service (NAT real servers sit on the director's private side, out of the client's reach).
   */
  readonly from: { readonly client: true } | { readonly director: string };
}

export interface VerifyTargets {
  readonly requests: readonly RequestTarget[];
  readonly skipped: readonly SkippedService[];
  readonly pages: readonly PageTarget[];
}

export function httpUrl(address: string, port: number): string {
  return `http://${address}:${port}/`;
}

export function verifyTargets(services: readonly ResolvedService[]): VerifyTargets {
  const requests: RequestTarget[] = [];
  const skipped: SkippedService[] = [];
  const pages = new Map<string, PageTarget>();
  services.forEach((service, index) => {
    const reason = skipReason(service);
    if (reason) {
      skipped.push({ index, service, reason });
      return;
    }
    const { port, notes } = requestPort(service);
    requests.push({ index, service, port, url: httpUrl(service.address as string, port), notes });
    for (const server of service.realServers) {
      const serverPort = realServerTestPort(service, server.port);
      const key = `${server.address}:${serverPort}`;
      const director = service.directors[0];
      const from = service.forwarding === 'nat' && director !== undefined ? { director } : { client: true as const };
      if (!pages.has(key)) {
        pages.set(key, {
          ...(server.host !== undefined ? { host: server.host } : {}),
          address: server.address,
          port: serverPort,
          url: httpUrl(server.address, serverPort),
          from,
        });
      }
    }
  });
  return { requests, skipped, pages: [...pages.values()] };
}

/** The port requests go to: the service's own, or the test page's where the service takes several. */
function requestPort(service: ResolvedService): { port: number; notes: string[] } {
  const port = serviceTestPort(service);
  if (service.protocol === 'fwmark') {
    const ports = service.ports ?? [];
    const marked = ports.length === 0 ? 'every port' : `ports ${ports.join(', ')}`;
    return { port, notes: [`firewall mark ${service.fwmark}: the director marks ${marked} of ${service.address}; requests go to port ${port}`] };
  }
  if (service.port === 0) return { port, notes: [`port 0 accepts every port: requests go to port ${port}`] };
  return { port, notes: [] };
}

function skipReason(service: ResolvedService): string | undefined {
  if (service.protocol === 'udp') return 'UDP service: the test page is HTTP over TCP, so there is no answer to count';
  if (service.protocol === 'fwmark' && service.address === undefined) {
    return 'firewall-mark service without a VIP: its packets are marked by rules lvsprov does not manage, so there is no address to send to';
  }
  if (service.address === undefined) return 'no virtual address';
  if (service.realServers.every((server) => server.weight === 0)) return 'every real server has weight 0: no server should get new connections';
  return undefined;
}
