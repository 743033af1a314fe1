import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostLayout } from './layout.js';
import { labEnv } from './process.js';
import { hostKeyName, hostSshDir } from './ssh-files.js';

// One lab host is one process chain, every step an exec so the pid spawn() returns ends up being
// sshd's: ip netns exec (network) -> unshare (private mounts, own hostname) -> sh (builds the
// filesystem) -> chroot -> sshd. When sshd exits, the host's mounts go with its mount namespace.
// A host that boots systemd forks once, into a PID namespace of its own: sh (joins the host's
// cgroups) -> ip netns exec -> unshare --fork -> [PID 1] sh (builds the filesystem) -> chroot ->
// systemd, which starts sshd.

/**
 * Positional parameters: $1 scratch mount point, $2 host name, $3 the host's key directory,
 * $4 the lab's shared directory (sshd_config, authorized_keys). Fixed text: nothing is pasted in.
 * Builds the host's filesystem in `$root`; the script that runs it then starts the host's first process.
 */
const filesystemSteps = `set -eu
scratch=$1 name=$2 keys=$3 shared=$4
# The private copy of the mount table holds every /run/netns/* bind mount that existed when it
# was made; left there, they would keep this lab's and other labs' namespaces alive after
# "ip netns delete" for as long as this host runs. One lazy detach takes the whole subtree in
# a single syscall; umount -R would pay an RCU grace period per mount, hundreds per host.
if mountpoint -q /run/netns; then umount -l /run/netns; fi
# The overlay's upper layer cannot live on the filesystem it covers, hence a tmpfs of its own.
mount -t tmpfs -o mode=0755,size=1g "lab-$name" "$scratch"
mkdir "$scratch/upper" "$scratch/work" "$scratch/root"
root=$scratch/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$scratch/upper,workdir=$scratch/work" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mount --rbind /dev "$root/dev"
# Copied rather than referenced: the work directory may sit on a filesystem the overlay (which
# shows only the root filesystem) does not reach, and /run is hidden by the fresh tmpfs.
mkdir -p -m 0755 "$root/run/sshd" "$root${hostSshDir}"
cp "$shared/sshd_config" "$shared/authorized_keys" "$keys/${hostKeyName}" "$keys/${hostKeyName}.pub" "$root${hostSshDir}/"
printf '%s\\n' "$name" > "$root/etc/hostname"
hostname "$name"
`;

const sshdArgs = `-D -e -f ${hostSshDir}/sshd_config -h ${hostSshDir}/${hostKeyName} -o PidFile=none`;

/** A host whose only process is sshd. */
export const hostScript = `${filesystemSteps}exec chroot "$root" /usr/sbin/sshd ${sshdArgs}
`;

/**
 * Units of the machine's own that would change the machine rather than the host: kernel settings
 * and modules, binfmt handlers and device nodes are global, not per namespace. Masked in /run,
 * where the host's units live and go with it.
 */
export const MASKED_UNITS = [
  'systemd-sysctl.service',
  'systemd-modules-load.service',
  'kmod-static-nodes.service',
  'systemd-tmpfiles-setup-dev.service',
  'systemd-binfmt.service',
  'proc-sys-fs-binfmt_misc.automount',
  'systemd-udevd.service',
  'systemd-udev-trigger.service',
  'systemd-remount-fs.service',
  'systemd-firstboot.service',
];

/**
 * A host that boots systemd: it starts the target below alone (not the machine's default), which
 * wants sshd; whatever a playbook installs, systemd starts. PID 1 of its own PID namespace, as in
 * a container (`container=` tells systemd so); its cgroup namespace is rooted at the cgroups the
 * start-up joined (cgroups.ts).
 */
const systemdHostScript = `${filesystemSteps}units=$root/run/systemd/system
mkdir -p "$units"
printf '%s\\n' '[Unit]' 'Description=lvsprov lab host' 'Wants=lvsprov-lab-sshd.service' > "$units/lvsprov-lab.target"
printf '%s\\n' '[Unit]' 'Description=sshd of the lvsprov lab host' '[Service]' 'ExecStart=/usr/sbin/sshd ${sshdArgs}' 'KillMode=process' > "$units/lvsprov-lab-sshd.service"
for unit in ${MASKED_UNITS.join(' ')}; do ln -s /dev/null "$units/$unit"; done
exec chroot "$root" /usr/bin/env container=lvsprov-lab /lib/systemd/systemd --system --unit=lvsprov-lab.target
`;

/**
 * Positional parameters: $1 the host's network namespace, $2 the script above, $3-$6 its
 * parameters, then the cgroup directories the host goes into. The start-up joins them (before
 * `ip netns exec`, whose fresh /sys has no cgroup mounts), then unshares every namespace systemd
 * expects of a container; with --fork, PID 1 of the new PID namespace is the script, which
 * becomes systemd.
 */
const systemdStartScript = `set -eu
namespace=$1 script=$2 scratch=$3 name=$4 keys=$5 shared=$6
shift 6
for dir in "$@"; do printf '%s\\n' "$$" > "$dir/cgroup.procs"; done
exec ip netns exec "$namespace" unshare --pid --fork --cgroup --mount --uts --ipc --propagation private /bin/sh -c "$script" lab-host "$scratch" "$name" "$keys" "$shared"
`;

export interface HostPaths {
  /** Holds the host's key pair, its sshd log and the scratch mount point. */
  readonly hostDir: string;
  readonly sharedDir: string;
}

export function hostDir(workDir: string, hostName: string): string {
  return join(workDir, 'hosts', hostName);
}

/** Where a host's key pair is generated; start-up copies it into the host's own filesystem. */
export function hostKeyPath(workDir: string, hostName: string): string {
  return join(hostDir(workDir, hostName), hostKeyName);
}

export function logPath(paths: HostPaths): string {
  return join(paths.hostDir, 'sshd.log');
}

/**
 * Start a host; the returned child's pid becomes sshd's, or, on a host that boots systemd,
 * unshare's, whose one child is systemd. It is detached so `up` can exit.
 */
export function spawnHost(host: HostLayout, paths: HostPaths, cgroups: readonly string[] = []): ChildProcess {
  const log = openSync(logPath(paths), 'w');
  const parameters = [join(paths.hostDir, 'mnt'), host.name, paths.hostDir, paths.sharedDir];
  const argv =
    host.init === 'systemd'
      ? ['/bin/sh', '-c', systemdStartScript, 'lab-host', host.namespace, systemdHostScript, ...parameters, ...cgroups]
      : ['ip', 'netns', 'exec', host.namespace, 'unshare', '--mount', '--uts', '--propagation', 'private', '/bin/sh', '-c', hostScript, 'lab-host', ...parameters];
  try {
    const [program = 'ip', ...args] = argv;
    const child = spawn(program, args, { detached: true, stdio: ['ignore', log, log], env: labEnv });
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
}

/** The end of a host's sshd log, for error messages. */
export async function logTail(paths: HostPaths, bytes = 2000): Promise<string> {
  try {
    const text = await readFile(logPath(paths), 'utf8');
    return text.slice(-bytes).trim();
  } catch {
    return '';
  }
}
