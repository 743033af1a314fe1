import { quote } from '../../shell/quote.js';
import { failedMarker, hostRootTag, initParam, modulesParam } from './markers.js';

// The initramfs's /init, run by busybox sh as PID 1. It turns the machine's root, shared read-only
// over 9p, into a writable root (overlay, tmpfs upper, so the guest never writes to the machine),
// puts the downloaded kernel's modules where modprobe looks, and hands over to the guest's own
// init script, whose path comes on the kernel command line because it differs per guest.

export function initramfsInit(moduleFiles: readonly string[]): string {
  const insmods = moduleFiles.map((file) => `insmod /modules/${quote(file)} || fail ${quote(`insmod ${file}`)}`).join('\n');
  return `#!/bin/sh
export PATH=/bin
mount -t devtmpfs devtmpfs /dev
# The initramfs has no /dev/console node, so stdio is attached once devtmpfs provides it.
exec 0</dev/console 1>/dev/console 2>&1
mount -t proc proc /proc
echo "lvsprov-initramfs: started at $(cut -d' ' -f1 /proc/uptime)s"
fail() {
  echo "${failedMarker} initramfs: $*"
  echo o >/proc/sysrq-trigger
  sleep 10
}
${insmods}
guest_init=
modules=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    ${initParam}=*) guest_init="\${arg#*=}" ;;
    ${modulesParam}=*) modules="\${arg#*=}" ;;
  esac
done
[ -n "$guest_init" ] || fail "no ${initParam}= on the kernel command line"
[ -n "$modules" ] || fail "no ${modulesParam}= on the kernel command line"
mkdir -p /host /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose ${hostRootTag} /host || fail "mount 9p ${hostRootTag}"
# The upper layer must not live inside the lower one, hence its own tmpfs.
mount -t tmpfs -o mode=0755 tmpfs /rw || fail "mount tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /newroot || fail "mount overlay"
[ -d "/host$modules" ] || fail "modules dir $modules not visible over 9p"
# On merged-/usr systems /lib is a symlink; an absolute one would resolve in the initramfs.
lib=/newroot/lib
case "$(readlink /newroot/lib)" in /*) lib="/newroot$(readlink /newroot/lib)" ;; esac
target="$lib/modules/$(uname -r)"
mkdir -p "$target" && mount -o bind "/host$modules" "$target" || fail "bind-mount modules"
[ -x "/newroot$guest_init" ] || fail "guest init $guest_init not executable in the new root"
mount --move /dev /newroot/dev || fail "move /dev"
mount --move /proc /newroot/proc || fail "move /proc"
exec switch_root /newroot "$guest_init"
`;
}

/** Busybox applets the script above calls; each becomes a symlink in the initramfs's /bin. */
export const initramfsApplets = ['sh', 'mount', 'insmod', 'mkdir', 'cat', 'echo', 'sleep', 'uname', 'cut', 'readlink', 'switch_root'] as const;
