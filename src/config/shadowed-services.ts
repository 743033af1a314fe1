import type { ResolvedService } from './lvs-model.js';
import type { PathSegment } from './yaml-source.js';

// A director marks the packets of a fwmark service in prerouting (its VIP, on its TCP `ports` or on
// every port), and IPVS gives a marked packet to the fwmark service before it looks for a service
// of the packet's address and port. So a tcp or udp service of the same VIP whose packets a
// fwmark service of the same director marks never gets a connection: its real servers, its
// forwarding method and its scheduler are dead configuration, and the traffic goes where the
// other service says. Two fwmark services that mark the same packets fight the same way: each
// packet carries one mark, the last rule's.

type Report = (path: PathSegment[], message: string) => void;

const servicePath = (index: number, ...rest: PathSegment[]): PathSegment[] => ['lvs', 'services', index, ...rest];

/** What a fwmark service marks: TCP ports of its VIP, or every packet to it. */
function marked(service: ResolvedService): { readonly address: string; readonly ports?: readonly number[] } | undefined {
  if (service.protocol !== 'fwmark' || service.address === undefined) return undefined;
  return { address: service.address, ...(service.ports !== undefined && service.ports.length > 0 ? { ports: service.ports } : {}) };
}

const shareDirector = (a: ResolvedService, b: ResolvedService): boolean => a.directors.some((director) => b.directors.includes(director));

function describeMarks(service: ResolvedService, ports: readonly number[] | undefined): string {
  return ports === undefined ? `every packet to ${service.address}` : `TCP port${ports.length === 1 ? '' : 's'} ${ports.join(', ')} of ${service.address}`;
}

export function shadowedServices(services: readonly ResolvedService[], written: ReadonlyArray<{ readonly port?: unknown; readonly ports?: unknown }>, report: Report): void {
  services.forEach((marker, markerIndex) => {
    const marks = marked(marker);
    if (marks === undefined) return;
    services.forEach((other, index) => {
      if (index === markerIndex || other.address !== marks.address || !shareDirector(marker, other)) return;
      const label = `fwmark service ${marker.name} (lvs.services.${markerIndex}, mark ${marker.fwmark})`;
      if (other.protocol === 'fwmark') {
        // Said once, at the later of the two.
        if (index < markerIndex) return;
        const theirs = marked(other);
        if (theirs === undefined) return;
        const common = marks.ports === undefined ? theirs.ports : theirs.ports === undefined ? marks.ports : theirs.ports.filter((port) => marks.ports!.includes(port));
        if (common !== undefined && common.length === 0) return;
        report(
          written[index]?.ports !== undefined ? servicePath(index, 'ports') : servicePath(index, 'vip'),
          `fwmark service ${other.name} (mark ${other.fwmark}) marks ${describeMarks(other, common)}, which ${label} marks too: a packet carries one mark, so one of the two services never gets those connections; give each service ports of its own`,
        );
        return;
      }
      const caught = other.protocol === 'tcp' || marks.ports === undefined;
      if (!caught) return;
      // A port-0 service keeps the ports the marks leave: layered on purpose, as a port service over it.
      if (marks.ports !== undefined && (other.port === 0 || !marks.ports.includes(other.port))) return;
      const what = other.port === 0 ? `every ${other.protocol.toUpperCase()} port of ${other.address}` : `${other.protocol.toUpperCase()} ${other.address}:${other.port}`;
      const overlap = marks.ports === undefined ? `marks every packet to ${marks.address}` : `marks TCP port${marks.ports.length === 1 ? '' : 's'} ${marks.ports.join(', ')} of ${marks.address}`;
      report(
        written[index]?.port !== undefined ? servicePath(index, 'port') : servicePath(index, 'vip'),
        `${other.protocol} service ${other.name} (${what}) would get no connection: ${label} ${overlap} on the same director, and IPVS gives a marked packet to its fwmark service first; ` +
          (marks.ports === undefined ? 'give the fwmark service `ports` that leave this one out, or drop one of the two' : `take port ${other.port} out of the fwmark service's \`ports\`, or drop this service`),
      );
    });
  });
}
