import { isIpv4 } from '../net/ipv4.js';
import { quote } from '../shell/quote.js';
import { scriptEnvironment } from '../shell/script-environment.js';

// The ARP check, run on a host of the director's LAN (usually the router, which is what ARPs for
// the VIP in real life). Per VIP: find the device on which the director's LAN address is on-link
// (`ip route get`), send broadcast ARP requests for the VIP there and print every reply, and ARP
// each real server's address once so a stray responder's MAC can be named. `-b` keeps every
// request a broadcast: both iputils and busybox arping otherwise go unicast to the first
// responder and would never hear a second one. All VIPs and lookups run at once; the slowest
// takes about 3 s.

export interface ArpProbe {
  readonly vip: string;
  /** A director's address on its LAN: the checker must reach it without a gateway. */
  readonly directorAddress: string;
  /** Real server addresses on that LAN, to learn their MACs. */
  readonly lookups: readonly string[];
}

/** Requests per VIP; every one is broadcast, so each responder answers each. */
export const arpRequests = 3;

export function arpScript(nonce: string, probes: readonly ArpProbe[]): string {
  if (!/^[0-9a-f]+$/.test(nonce)) throw new Error('the nonce must be hex');
  for (const probe of probes) {
    for (const address of [probe.vip, probe.directorAddress, ...probe.lookups]) {
      if (!isIpv4(address)) throw new Error(`not an IPv4 address: ${address}`);
    }
  }
  const n = nonce;
  const lines = [
    scriptEnvironment,
    'if arping -V 2>&1 | grep -q iputils; then tool=iputils',
    'elif busybox --list 2>/dev/null | grep -qx arping; then tool=busybox',
    `else printf '%s tool none\\n%s end\\n' ${n} ${n}; exit 0; fi`,
    `printf '%s tool %s\\n' ${n} "$tool"`,
    'arp() { if [ "$tool" = iputils ]; then arping -b "$@"; else busybox arping -b "$@"; fi; }',
    'd=$(mktemp -d) || exit 1',
    'block() {',
    '  k=$1; vip=$2; dir=$3; shift 3',
    '  route=$(ip -o -4 route get "$dir" 2>&1)',
    `  printf '%s route %s %s\\n' ${n} "$k" "$(printf '%s' "$route" | tr '\\n\\\\' '  ')"`,
    '  dev=$(printf \'%s\\n\' "$route" | sed -n \'s/.* dev \\([^ ]*\\).*/\\1/p\' | head -n 1)',
    // Through a gateway, or the checker's own address: not on the director's LAN.
    '  case "$route" in *" via "*|local*) dev= ;; esac',
    `  if [ -z "$dev" ]; then printf '%s offlink %s\\n' ${n} "$k"; return 0; fi`,
    `  printf '%s dev %s %s\\n' ${n} "$k" "$dev"`,
    `  arp -c ${arpRequests} -I "$dev" "$vip" > "$d/$k.vip" 2>&1 &`,
    '  j=0',
    '  for rip in "$@"; do arp -c 1 -w 2 -I "$dev" "$rip" > "$d/$k.who.$j" 2>&1 & j=$((j + 1)); done',
    '  wait',
    `  printf '%s vip %s\\n' ${n} "$k"; cat "$d/$k.vip"`,
    `  j=0; for rip in "$@"; do printf '%s who %s %s\\n' ${n} "$k" "$rip"; cat "$d/$k.who.$j"; j=$((j + 1)); done`,
    '}',
  ];
  // Its own blocks are waited for by pid: the host's shell runs the session's scripts one after
  // another, and a bare `wait` would also wait for what an earlier script left running.
  lines.push('blocks=');
  probes.forEach((probe, index) => {
    const words = [probe.vip, probe.directorAddress, ...probe.lookups].map((word) => quote(word)).join(' ');
    lines.push(`block ${index} ${words} > "$d/out.${index}" 2>&1 & blocks="$blocks $!"`);
  });
  lines.push('[ -z "$blocks" ] || wait $blocks');
  probes.forEach((_, index) => lines.push(`cat "$d/out.${index}"`));
  lines.push('rm -rf "$d"', `printf '%s end\\n' ${n}`);
  return `${lines.join('\n')}\n`;
}
