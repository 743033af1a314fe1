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

/**
 * Positional parameters: $1 scratch mount point, $2 host name, $3 the host's key directory,
 * $4 the lab's shared directory (sshd_config, authorized_keys). Fixed text: nothing is pasted in.
 */
export const hostScript = `set -eu
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
exec chroot "$root" /usr/sbin/sshd -D -e -f ${hostSshDir}/sshd_config -h ${hostSshDir}/${hostKeyName} -o PidFile=none
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

/** Start a host; the returned child's pid becomes sshd's. It is detached so `up` can exit. */
export function spawnHost(host: HostLayout, paths: HostPaths): ChildProcess {
  const log = openSync(logPath(paths), 'w');
  try {
    const child = spawn(
      'ip',
      ['netns', 'exec', host.namespace, 'unshare', '--mount', '--uts', '--propagation', 'private', '/bin/sh', '-c', hostScript, 'lab-host',
        join(paths.hostDir, 'mnt'), host.name, paths.hostDir, paths.sharedDir],
      { detached: true, stdio: ['ignore', log, log], env: labEnv },
    );
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
