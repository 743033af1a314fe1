import type { ResolvedService } from './lvs-model.js';

// The port a service is tested on through its VIP, shared by verify (where it sends requests) and
// the webpage role (where the test page is served): a service that takes several ports is tested
// on one of them.

/** A port-0 service accepts every port: the test page is served on this one. */
export const catchAllTestPort = 80;

/** The VIP port requests go to: the service's own; port 80 for port 0; for fwmark, 80 if marked (or every port), else the first marked port. */
export function serviceTestPort(service: Pick<ResolvedService, 'protocol' | 'port' | 'ports'>): number {
  if (service.protocol === 'fwmark') {
    const ports = service.ports ?? [];
    return ports.length === 0 || ports.includes(catchAllTestPort) ? catchAllTestPort : (ports[0] as number);
  }
  return service.port === 0 ? catchAllTestPort : service.port;
}

/** Where a real server gets those requests: its own port, or the VIP's where it takes every port (0). */
export function realServerTestPort(service: Pick<ResolvedService, 'protocol' | 'port' | 'ports'>, serverPort: number): number {
  return serverPort === 0 ? serviceTestPort(service) : serverPort;
}
