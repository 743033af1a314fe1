import { command, quote } from '../../shell/quote.js';
import { isIpv6Service, type VirtualService } from './model.js';

// A scheduler change on a live service. The kernel swaps a service's scheduler by unbinding the
// old one and waiting an RCU grace period before binding the new one; a new connection that
// arrives in between finds no scheduler, and IPVS answers it with ICMP port unreachable: the
// client fails at once (ECONNREFUSED). For that moment the director instead drops the service's
// new connections (TCP SYNs; for UDP and SCTP every packet of the service), so a client's SYN is
// retransmitted a second later and lands on the new scheduler. Established connections are
// untouched. The drop sits in an nftables set element with a timeout, so it lapses by itself
// even if the script dies between taking and lifting it; its chain runs before IPVS's own hook.

export const HOLD_TABLE = 'lvsprov_scheduler_swap';
/** Long enough for the grace period on a loaded machine; bounded if the script never lifts it. */
const HOLD_SECONDS = 10;

/** The set that names the service, its element, and the rule that matches its new connections. */
function holdOf(service: VirtualService): { type: string; element: string; match: string } {
  if (service.protocol === 'fwmark') return { type: 'mark', element: String(service.fwmark), match: 'meta mark @swapping' };
  const [family, addressType] = isIpv6Service(service) ? ['ip6', 'ipv6_addr'] : ['ip', 'ipv4_addr'];
  const syn = service.protocol === 'tcp' ? ' tcp flags & (syn | ack) == syn' : '';
  if (service.port === 0) {
    return { type: addressType, element: service.address, match: `${family} daddr @swapping meta l4proto ${service.protocol}${syn}` };
  }
  return {
    type: `${addressType} . inet_service`,
    element: `${service.address} . ${service.port}`,
    match: `meta l4proto ${service.protocol} ${family} daddr . th dport @swapping${syn}`,
  };
}

/**
 * The -E command wrapped in the hold: one shell snippet whose status is ipvsadm's. The drop is
 * live while the service's set element exists: taken before the edit, deleted with the table
 * after it, and lapsing by itself after HOLD_SECONDS. Where nft is missing the edit runs bare.
 */
export function swapScheduler(service: VirtualService, edit: readonly string[]): string {
  return holdNewConnections([service], command(...edit));
}

/**
 * `snippet` (one shell command, its status the whole's) run while the new connections of every
 * service in `services` are dropped: the same hold as one -E, for an edit that changes several
 * services' schedulers at once (a keepalived reload). Services matched alike share a set.
 */
export function holdNewConnections(services: readonly VirtualService[], snippet: string): string {
  const holds = services.map(holdOf);
  const matches = [...new Set(holds.map((hold) => hold.match))];
  const setOf = (match: string): string => `swapping${matches.indexOf(match) || ''}`;
  const table = `inet ${HOLD_TABLE}`;
  const rules = [
    `table ${table} {`,
    ...matches.map((match) => `  set ${setOf(match)} { type ${holds.find((hold) => hold.match === match)?.type ?? ''}; flags timeout; }`),
    '  chain input { type filter hook input priority -150; policy accept;',
    ...matches.map((match) => `    ${match.replace('@swapping', `@${setOf(match)}`)} drop;`),
    '  }',
    '}',
    ...holds.map((hold) => `add element ${table} ${setOf(hold.match)} { ${hold.element} timeout ${HOLD_SECONDS}s }`),
  ].join('\n');
  const take = `{ nft delete table ${table} 2>/dev/null; printf '%s\\n' ${quote(rules)} | nft -f -; }`;
  return [
    `if command -v nft >/dev/null 2>&1 && ${take}; then`,
    `  rc=0; ${snippet} || rc=$?; nft delete table ${table} 2>/dev/null || true; [ "$rc" -eq 0 ]`,
    'else',
    `  ${snippet}`,
    'fi',
  ].join('\n');
}
