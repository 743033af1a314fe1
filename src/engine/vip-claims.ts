import type { PlannedChange } from './events.js';

// A director about to add a VIP asks the LAN first (address.ts: arping -D on a read that finds the
// VIP missing). An answer from a host of this run that gives the VIP up (a director kept for one
// apply with no service, a keepalived peer stopped) is the ordinary hand-over. Any other answer
// is a host outside the run: a director dropped from the inventory keeps its VIP and goes on
// answering the router's ARP, and with a second holder the router sends each client to whichever
// answered last, half of them to a director whose table may be stale. lvsprov cannot reach that
// host, so the director that would add the VIP stops before it changes anything.

export interface ClaimingHost {
  readonly host: string;
  readonly changes: readonly PlannedChange[];
}

/** Each host that would add a VIP another host outside the run answers for, with the reason. */
export function claimsOutsideTheRun(hosts: readonly ClaimingHost[]): Map<string, string> {
  // Who gives an address up, and on which device ('' where the change names none: keepalived's).
  // A real server that takes the VIP off lo or tunl0 never answered ARP for it there (arp_ignore):
  // its release is no hand-over of the address the segment answered for, which stays where it is.
  const released = hosts.flatMap(({ changes }) => changes.flatMap((change) => (change.releases ?? []).map((address) => ({ address, device: / on (\S+)$/.exec(change.resource.startsWith('address ') ? change.resource : '')?.[1] ?? '' }))));
  const lets = (claim: NonNullable<PlannedChange['claim']>): boolean => released.some((entry) => entry.address === claim.address && (entry.device === '' || entry.device === claim.device));
  const refused = new Map<string, string>();
  for (const { host, changes } of hosts) {
    const claims = changes.flatMap((change) => (change.claim && !lets(change.claim) ? [change.claim] : []));
    if (claims.length === 0) continue;
    refused.set(
      host,
      claims
        .map(
          (claim) =>
            `${claim.address} is already answered for on ${claim.device} by ${claim.by.join(', ')} (arping -D before adding it), a host this run neither reaches nor takes it from: ` +
            'a director dropped from the inventory, or a host configured by hand, still holds it. Two holders split the clients between them. ' +
            `Take it off that host (lvsprov reset with the inventory that lists it, or ip addr del ${claim.address}/32 there), or keep that director in the inventory with no service for one apply, then apply again`,
        )
        .join('; '),
    );
  }
  return refused;
}
