import { readFileSync } from 'node:fs';
import { findExecutable } from '../qemu/tools.js';

export interface LabAvailability {
  readonly ok: boolean;
  readonly reason: string;
}

const tools: ReadonlyArray<readonly [string, string]> = [
  ['sshd', 'openssh-server'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  ['ssh-keyscan', 'openssh-client'],
  ['ip', 'iproute2'],
  ['unshare', 'util-linux'],
  ['nsenter', 'util-linux'],
  ['mountpoint', 'util-linux'],
  ['chroot', 'coreutils'],
];

/** Whether this machine can build a netns lab, and if not, what is missing. Creates nothing. */
export function labAvailability(): LabAvailability {
  if (process.platform !== 'linux') return { ok: false, reason: 'network namespaces need Linux' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root: namespaces, mounts and sshd as root' };
  const missing = tools.filter(([name]) => findExecutable(name) === undefined).map(([name, pkg]) => `${name} (apt package ${pkg})`);
  if (missing.length > 0) return { ok: false, reason: `missing ${missing.join(', ')}` };
  if (!/\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'))) return { ok: false, reason: 'the kernel has no overlay filesystem' };
  return { ok: true, reason: 'root, OpenSSH server, iproute2 and overlayfs are present' };
}

/**
 * Whether a real-host suite should skip. Never in CI: there an unavailable lab must fail the run,
 * since a CI that passes by skipping its real-host tests proves nothing.
 */
export function skipLabSuite(availability: LabAvailability = labAvailability()): boolean {
  return !availability.ok && process.env.CI !== 'true';
}
