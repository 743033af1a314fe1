import { schedulers } from '../../resources/ipvs/schedulers.js';
import { quote } from '../../shell/quote.js';
import { failedMarker, readyMarker } from './markers.js';

// The guest's PID 1 after switch_root: a plain /bin/sh script from the machine's own root (seen
// through the overlay), so it can use the machine's modprobe, ip and sshd. It prepares what a lab
// host layer needs (IPVS and IPIP modules, a NIC, an sshd for the machine to jump through) and
// then only reaps orphans until it is powered off.

/**
 * IPVS core and every scheduler the roles can ask for, IPIP for TUN mode, conntrack, the
 * arptables tables (TUN real servers' ARP rules) and nftables (marks for fwmark services). Loaded here because the lab hosts inside the
 * guest cannot load modules themselves: their filesystems do not show the kernel's modules dir,
 * which the initramfs bind-mounts into the guest's root only.
 */
export const guestModules: readonly string[] = [
  'ip_vs',
  // From the inventory's own list, so a scheduler it accepts (mh, fo, ovf, lblc ...) is never one
  // the lab's director cannot load.
  ...schedulers.map((name) => `ip_vs_${name}`),
  'ipip',
  'nf_conntrack',
  'arp_tables',
  'arptable_filter',
  'arpt_mangle',
  'nf_tables',
];

export interface GuestInitOptions {
  /** The guest's address on qemu's user network, e.g. 198.18.0.15. */
  readonly address: string;
  /** qemu's side of the user network, e.g. 198.18.0.2: the source of forwarded connections. */
  readonly qemuHost: string;
  readonly sshdConfig: string;
  readonly hostname: string;
}

export function guestInit(options: GuestInitOptions): string {
  return `#!/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
exec 0</dev/console 1>/dev/console 2>&1
# Stage lines with the guest's uptime show where a slow boot spends its time.
stage() { echo "lvsprov-guest: $* at $(cut -d' ' -f1 /proc/uptime)s"; }
fail() {
  echo "${failedMarker} guest init: $*"
  echo o >/proc/sysrq-trigger
  sleep 10
}
mount -t sysfs sysfs /sys || fail "mount sysfs"
# Fresh /run (sshd's privilege-separation dir, netns mounts); /tmp stays the overlay's because
# the guest's work dir on the machine is reached through it.
mount -t tmpfs -o mode=0755 tmpfs /run || fail "mount /run"
mkdir -p /dev/pts /dev/shm /run/sshd /run/netns
mount -t devpts -o mode=0620,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
stage "guest init started"
hostname ${quote(options.hostname)}
modprobe -a virtio_net ${guestModules.join(' ')} || fail "modprobe"
stage "modules loaded"
ip link set lo up || fail "lo up"
# Host routes only, no subnet and no default route: qemu's network is restricted (nothing leaves
# it) and its only peer is qemu itself, so the guest's root namespace claims two addresses and
# leaves the rest of 198.18.0.0/15 free for lab subnets routed from here.
ip addr add ${quote(`${options.address}/32`)} dev eth0 || fail "address on eth0"
ip link set eth0 up || fail "eth0 up"
ip route add ${quote(`${options.qemuHost}/32`)} dev eth0 || fail "route to qemu"
# sshd refuses keys for a locked account (password "!..."); unlock root inside the guest only
# (the overlay's upper layer), password logins stay disabled by the sshd config.
case "$(getent shadow root | cut -d: -f2)" in '!'*) usermod -p '*' root ;; esac
# bash run by sshd sources ~/.bashrc even for a plain command; the machine's root's rc files
# (pyenv init and the like) cost 10-15 s per command under TCG. dash reads none for "sh -c".
usermod -s /bin/sh root || fail "root shell"
stage "network up"
/usr/sbin/sshd -f ${quote(options.sshdConfig)} -E /run/lvsprov-sshd.log || fail "sshd: $(tail -n 5 /run/lvsprov-sshd.log)"
tries=0
until ss -Hltn 'sport = :22' | grep -q .; do
  tries=$((tries + 1))
  [ "$tries" -lt 300 ] || fail "sshd is not listening on port 22"
  sleep 0.1
done
echo "${readyMarker} $(uname -r) after $(cut -d' ' -f1 /proc/uptime)s"
# PID 1 inherits every orphan; dash's wait reaps them while it waits for its own sleep.
while :; do
  sleep 3600 &
  wait
done
`;
}
