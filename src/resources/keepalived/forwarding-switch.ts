import { pollUntil } from '../../shell/poll.js';
import { quote } from '../../shell/quote.js';
import { listBoundCommand } from '../ipvs/bound-connections.js';
import { realServerName, selector, serverRef, serviceName, type RealServer, type VirtualService } from '../ipvs/model.js';
import { switchMarks, switchPins, switchUnpin } from '../ipvs/forwarding-switch.js';
import { pinNextHop } from '../ipvs/next-hop-pin.js';
import { FORWARDING_FLAG } from '../ipvs/rules-format.js';
import type { Change } from '../types.js';
import type { KeepalivedFacts } from './probe.js';
import type { KeepalivedSpec } from './schema.js';
import { expectedService } from './table.js';

// A virtual server whose lvs_method changes under keepalived: its reload edits each real server
// (check/ipwrapper.c clear_diff_rs: LVS_CMD_EDIT_DEST where its forwarding_method differs), as
// `ipvsadm -e` does on a director without keepalived, and the kernel keeps each established
// connection's method. So the same order as there (ipvs/plan.ts): the next-hop pin before the
// reload where DR is on either side (next-hop-pin.ts), then, once the live table shows the new
// method, the list of the connections the old method carries, which the engine drains before the
// retire wave takes that method's setup off the real server; a NAT switch moves the real server's
// default route in the reroute wave (Change.switching); the pin goes in withdraw, after the drain.

export interface ForwardingSwitch {
  readonly service: VirtualService;
  readonly before: RealServer;
  readonly after: RealServer;
}

/** The real servers whose method the spec changes, of services keepalived holds now. */
export function forwardingSwitches(spec: KeepalivedSpec, facts: KeepalivedFacts): ForwardingSwitch[] {
  return spec.virtual_servers.map(expectedService).flatMap((service) => {
    const live = facts.table.find((entry) => serviceName(entry) === serviceName(service));
    if (live === undefined) return [];
    return service.realServers.flatMap((after) => {
      const before = live.realServers.find((server) => realServerName(server) === realServerName(after));
      return before !== undefined && before.forwarding !== after.forwarding ? [{ service, before, after }] : [];
    });
  });
}

const touchesDr = (change: ForwardingSwitch): boolean => switchPins(change.before.forwarding, change.after.forwarding);

/** Shell run before the reload that switches: each DR switch's next-hop pin. */
export function pinsBefore(switches: readonly ForwardingSwitch[]): string[] {
  return [...new Set(switches.filter(touchesDr).map((change) => change.after.address))].map(pinNextHop);
}

/**
 * Shell that waits up to 10 s for the live table to show the server with its new method (keepalived
 * reloads in the background), whatever its weight: a check may have it at another.
 */
function untilSwitched(change: ForwardingSwitch): string {
  const prefix = ['-a', ...selector(change.service), '-r', realServerName(change.after), FORWARDING_FLAG[change.after.forwarding], '-w'].join(' ');
  return pollUntil(`ipvsadm -S -n 2>/dev/null | grep -qF -e ${quote(`${prefix} `)}`, 10);
}

/** After the reload that switches, in balance: per server, the old method's connections listed for the drain. */
export function switchChanges(switches: readonly ForwardingSwitch[]): Change[] {
  return switches.map((change) => ({
    resource: 'keepalived',
    summary: `real server ${realServerName(change.after)} in ${serviceName(change.service)}: ${change.before.forwarding} -> ${change.after.forwarding} by keepalived's reload; the connections made by ${change.before.forwarding} drain before its setup goes`,
    commands: [untilSwitched(change), listBoundCommand(serverRef(change.service, change.after))],
    phase: 'balance',
    ...switchMarks(change.service, change.before, change.after),
  }));
}

/** In withdraw, after the drain: each pin goes. */
export function unpinsAfter(switches: readonly ForwardingSwitch[]): Change[] {
  const pinned = switches.filter(touchesDr);
  return [...new Map(pinned.map((change) => [change.after.address, change])).values()].map((change) => switchUnpin(change.service, change.after));
}

/** What a switch says in the config change that makes it. */
export function describeSwitches(switches: readonly ForwardingSwitch[]): string {
  return switches.map((change) => `${realServerName(change.after)} ${change.before.forwarding} -> ${change.after.forwarding}`).join(', ');
}
