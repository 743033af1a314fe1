import type { Change } from '../types.js';
import { realServerName, serverRef, serviceName, type Forwarding, type RealServer, type VirtualService } from './model.js';
import { unpinChange } from './next-hop-pin.js';

// What a real server's forwarding switch asks of the engine and of the route table, the same
// whoever edits the server: lvsprov's ipvsadm -e (plan.ts) or keepalived's reload
// (keepalived/forwarding-switch.ts).

/**
 * The switch's marks on the change that makes it: the connections of the old method to drain
 * before retire (`rebinds`, listed by listBoundCommand), and, across NAT, the real server's
 * default route moved in the reroute wave (`switching`).
 */
export function switchMarks(service: VirtualService, before: RealServer, after: RealServer): Pick<Change, 'rebinds' | 'switching'> {
  if (before.forwarding === after.forwarding) return {};
  const server = serverRef(service, after);
  return { rebinds: { server, from: before.forwarding, to: after.forwarding }, ...((before.forwarding === 'nat') !== (after.forwarding === 'nat') ? { switching: server } : {}) };
}

/** Whether a switch needs the next-hop pin (next-hop-pin.ts): DR on one side, NAT or TUN on the other. */
export function switchPins(from: Forwarding, to: Forwarding): boolean {
  return from !== to && (from === 'dr' || to === 'dr');
}

/** The pin's removal once the switch drained (withdraw). */
export function switchUnpin(service: VirtualService, after: RealServer): Change {
  return unpinChange(after.address, `${realServerName(after)} in ${serviceName(service)}: its next-hop pin goes (the ${after.forwarding} switch drained)`);
}
