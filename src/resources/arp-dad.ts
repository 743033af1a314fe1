import { command, quote } from '../shell/quote.js';

// Whether anyone on a device's segment still answers ARP for an address, asked right before a
// director adds a VIP whose old holder's fate is unknown (engine/vip-handover.ts): duplicate
// address detection, `arping -D` (iputils or busybox), a probe from 0.0.0.0 so that no host's
// neighbour table learns anything from it. Two probes a second apart (-c 2 -w 2): a single lost
// request or reply would read as "nobody", and nobody is the answer that adds a second holder.
// A DR real server holds the VIP on lo with arp_ignore=1, and the kernel answers an ARP request
// only for an address of the interface it came in on: it does not answer, and does not count (one
// with arp_ignore=0 does answer, and does count: it would take the VIP's traffic as well).
//
// The command fails (set -e in the apply script's section) unless arping asked and heard nobody,
// and says why on stdout: who answered (their MACs), or that it could not ask at all. Trusting
// arping's exit status alone is not enough: iputils exits 0 on a device that has no ARP (`lo`:
// "Interface "lo" is not ARPable"), and busybox exits 1 for its errors as for a reply. So nobody
// answered only when arping exited 0 and printed its count of zero responses (both print
// `Received 0 response(s)`).

/** `arping -D` runs this long at most when nobody answers; the held-VIP answer comes at once. */
export const DAD_SECONDS = 2;

/** The shell that asks `device`'s segment who answers ARP for `address`, failing unless nobody does. */
export function dadCheck(address: string, device: string): string {
  const arping = command('arping', '-D', '-c', DAD_SECONDS, '-w', DAD_SECONDS, '-I', device, address);
  const on = `${address} on ${device}`;
  return [
    `if ! command -v arping >/dev/null 2>&1; then printf '%s\\n' ${quote(`no arping on this host (iputils-arping or busybox): cannot ask whether anyone still answers ARP for ${on}, so it is not added`)}; false; fi`,
    `lvsprov_dad_status=0; lvsprov_dad=$(${arping} 2>&1) || lvsprov_dad_status=$?`,
    `lvsprov_dad_macs=$(printf '%s\\n' "$lvsprov_dad" | sed -n 's/.*[Rr]eply from [^ ]* \\[\\([0-9A-Fa-f:]*\\)\\].*/\\1/p' | tr 'A-F' 'a-f' | sort -u | tr '\\n' ' ')`,
    `if [ -n "$lvsprov_dad_macs" ]; then printf '%s%s%s\\n' ${quote(`${on} is still answered for by `)} "$lvsprov_dad_macs" ${quote('(arping -D): not added, two holders would split the router\'s clients')}; false; fi`,
    `if [ "$lvsprov_dad_status" -ne 0 ] || ! printf '%s\\n' "$lvsprov_dad" | grep -q 'Received 0 response'; then printf '%s%s%s\\n%s\\n' ${quote(`${arping} could not ask who answers for ${on} (exit `)} "$lvsprov_dad_status" ${quote('), so it is not added:')} "$lvsprov_dad"; false; fi`,
  ].join('\n');
}
