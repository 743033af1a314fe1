import { quote } from '../../shell/quote.js';
import type { KeepalivedSpec } from './schema.js';

// keepalived's first start takes every VIP of its instances that is already on its device off
// (2.2.7: vrrp_complete_instance marks them "to force address removal", and
// vrrp_restore_interfaces_startup deletes them) and puts them back only once it is master, a
// master-down interval later (3 x advert_int + skew: 3.0 s measured). A director whose VIPs
// lvsprov's own address tasks held until now (lvs.ha added) would be that long without them. A
// copy of each such VIP on `lo` bridges the gap: the kernel goes on delivering to the VIP and
// answering ARP for it on its device (a director keeps arp_ignore 0) while keepalived removes and
// re-adds its own. keepalived ignores an address on another device than its VIP's (addr_is_equal
// compares the device, not the prefix), so removing the copy once it holds the VIP again does not
// make it think its VIP went; a copy with another prefix on the same device would, and keepalived
// would drop to BACKUP. The copies go once an `ip monitor` saw each VIP deleted and added back on
// its device, or after the master-down interval and 10 s of slack, whatever keepalived did.

/**
 * Only the instances meant to be master: a BACKUP one is not expected to hold its VIPs, and a stale
 * copy on it (a crashed master's) is best removed at once, as keepalived's start does.
 */
const masters = (spec: KeepalivedSpec): KeepalivedSpec['instances'] => spec.instances.filter((instance) => instance.state === 'MASTER');

/** Shell: whether `device` holds `cidr` (an `ip -o` line's address field is ` ADDRESS/PREFIX `). */
export function addressOnDevice(cidr: string, device: string): string {
  return `ip -o -4 addr show dev ${quote(device)} | grep -qF -e ${quote(` ${cidr} `)}`;
}

/** The master-down interval and 10 s of slack. */
const limitSeconds = (spec: KeepalivedSpec): number => 3 * spec.advert_interval + 10;

/** Shell run before the start: bridge the VIPs now on their devices (and start watching them). */
export function bridgeBefore(spec: KeepalivedSpec): string[] {
  const vips = [...new Map(masters(spec).flatMap((instance) => instance.vips).map((vip) => [`${vip.address}/${vip.prefix} ${vip.device}`, vip])).values()];
  if (vips.length === 0) return [];
  return [
    "ka_bridged=''; ka_mon=/tmp/lvsprov-keepalived-start.$$",
    // Bounded by itself too, should this script die before it is stopped.
    `timeout ${limitSeconds(spec) + 10} ip -o monitor address > "$ka_mon" 2>/dev/null < /dev/null & ka_monpid=$!`,
    'ka_unbridge() { kill "$ka_monpid" 2>/dev/null || true; for b in $ka_bridged; do a="${b%%|*}"; ip addr del "${a%/*}/32" dev lo 2>/dev/null || true; done; rm -f "$ka_mon"; }',
    ...vips.map((vip) => {
      const cidr = `${vip.address}/${vip.prefix}`;
      return (
        `if ${addressOnDevice(cidr, vip.device)} && ! ${addressOnDevice(`${vip.address}/32`, 'lo')}; then ` +
        `ip addr add ${quote(`${vip.address}/32`)} dev lo; ka_bridged="$ka_bridged "${quote(`${cidr}|${vip.device}`)}; fi`
      );
    }),
  ];
}

/** Shell run after the start: wait for keepalived to hold each bridged VIP again, then drop the copies (a failed start calls ka_unbridge at once). */
export function bridgeAfter(spec: KeepalivedSpec): string[] {
  if (!masters(spec).some((instance) => instance.vips.length > 0)) return [];
  const limit = limitSeconds(spec) * 10;
  // Field 2 of an added address line is its device and field 4 the address; a deleted line has `Deleted` in front.
  const back = `awk -v dev="$2" -v a="$1" '{ d = ($1 == "Deleted"); if ($(2 + d) != dev || $(4 + d) != a) next; if (d) gone = 1; else if (gone) back = 1 } END { exit !back }' "$ka_mon"`;
  return [
    `ka_back() { ${back}; }`,
    `n=0; while [ -n "$ka_bridged" ] && [ "$n" -lt ${limit} ]; do all=1; for b in $ka_bridged; do ka_back "\${b%%|*}" "\${b#*|}" || all=0; done; [ "$all" = 0 ] || break; sleep 0.1; n=$((n + 1)); done`,
    'ka_unbridge',
  ];
}
