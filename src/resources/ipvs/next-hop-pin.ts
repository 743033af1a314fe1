import { command, quote } from '../../shell/quote.js';
import type { Change } from '../types.js';

// IPVS keeps one cached route per real server (ip_vs_xmit.c: the destination's dest_dst), made by
// whichever of its connections sends first after the cache went stale, and used by all of them.
// DR sends a packet unchanged (its destination still the VIP) and asks for a route that names the
// server's address as next hop (IP_VS_RT_MODE_KNOWN_NH); NAT and TUN address the packet to the
// server itself and take the plain route, which on the server's own LAN names no next hop at all.
// While a forwarding switch between DR and NAT or TUN drains, the server carries connections of
// both methods: once a NAT or TUN packet refreshed the cache, the next DR packet went to the
// next hop "the VIP" on the LAN, which nobody answers for the director (the servers ignore ARP for
// it), and the client got EHOSTUNREACH from the director three seconds later (measured on the qemu
// lab, NAT to DR with downloads held open: 3 of 861 new requests, one every 22 s, the director's
// neighbour table showing the VIP FAILED; with the pin, 0 of 951). The pin, a host route to the
// server by way of the server itself (on-link), makes every route to it name its address as the
// next hop, whichever method asks. It is set only where the server is on-link: a server behind a
// gateway has that gateway as next hop either way, and a local address has none. `proto 250`
// marks lvsprov's own pins in `ip route`.

export const PIN_PROTO = '250';

/** The unpin's resource: a route, not the IPVS table (the table's save file does not wait for it). */
export const pinResource = (address: string): string => `route ${address}/32 (next-hop pin)`;

/**
 * Before the switch: the pin, where `ip route get` reaches the server on-link (`ADDR dev DEV ...`);
 * not through a gateway (`via`), not a local address, and not where it is pinned already.
 */
export function pinNextHop(address: string): string {
  const onLink = `${address} dev `;
  const add = `${command('ip', '-4', 'route', 'replace', `${address}/32`, 'via', address)} dev "$lvsprov_pin_dev" ${command('proto', PIN_PROTO)}`;
  return [
    // No route at all (unreachable) pins nothing: the switch is no worse off for it.
    `lvsprov_pin_route=$(${command('ip', '-4', '-o', 'route', 'get', address)} 2>/dev/null) || lvsprov_pin_route=`,
    `case "$lvsprov_pin_route" in ${quote(onLink)}*) lvsprov_pin_dev=\${lvsprov_pin_route#${quote(onLink)}}; lvsprov_pin_dev=\${lvsprov_pin_dev%% *}; ${add} ;; esac`,
  ].join('; ');
}

/**
 * Shell that prints every route lvsprov pinned as `R <route>` lines (nothing where `ip` is
 * missing): a run stopped between a switch and its withdraw wave leaves its pin, which the next
 * run finds here and removes.
 */
export const PINS_SNIPPET = pinsSnippet('R');

/** PINS_SNIPPET with another line prefix, for a probe whose `R` lines say something else. */
export function pinsSnippet(prefix: 'R' | 'P'): string {
  return `if command -v ip >/dev/null 2>&1; then ${command('ip', '-4', 'route', 'show', 'proto', PIN_PROTO)} 2>/dev/null | sed 's/^/${prefix} /'; fi`;
}

/** The pinned address of one `ip route` line, when it is a pin as pinNextHop makes it (`A via A dev D`). */
export function parsePinnedRoute(route: string): string | undefined {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3}) via (\S+) dev \S+/.exec(route.trim());
  return match && match[1] === match[2] ? match[1] : undefined;
}

/** After the drain: the pin lvsprov set, if it is there (several services may switch the same server). */
export function unpinNextHop(address: string): string {
  const show = command('ip', '-4', 'route', 'show', 'exact', `${address}/32`, 'proto', PIN_PROTO);
  return `if [ -n "$(${show})" ]; then ${command('ip', '-4', 'route', 'del', `${address}/32`, 'proto', PIN_PROTO)}; fi`;
}

/**
 * The pins read on the host that none of `changes` removes: a run stopped after a switch's edit
 * and before its withdraw wave left them. Each goes in this run's withdraw wave, where the
 * switch's own unpin would have run; the connections the stopped run still had to drain are not
 * known any more, and the real server's old setup, which this run retires, carries them no longer.
 */
export function leftoverUnpins(pins: readonly string[], changes: readonly Change[]): Change[] {
  const removed = new Set(changes.map((change) => change.resource));
  return [...new Set(pins)]
    .filter((address) => !removed.has(pinResource(address)))
    .map((address) => unpinChange(address, `route ${address}/32: the next-hop pin a stopped forwarding switch left goes`));
}

/** The change that removes a pin: in withdraw, once the old method's connections drained (the drain runs before it). */
export function unpinChange(address: string, summary: string): Change {
  return { resource: pinResource(address), summary, commands: [unpinNextHop(address)], phase: 'withdraw' };
}
