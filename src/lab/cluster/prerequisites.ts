import { findExecutable } from '../qemu/tools.js';

// Everything `lab up` needs on the machine, checked at once so one message names all of it and
// one apt-get command installs it. The guest runs the machine's own programs (its root is the
// machine's /), so the lab hosts' tools count too.

const tools: ReadonlyArray<readonly [tool: string, aptPackage: string]> = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['busybox', 'busybox-static'],
  ['cpio', 'cpio'],
  ['gzip', 'gzip'],
  ['depmod', 'kmod'],
  ['modprobe', 'kmod'],
  ['apt-get', 'apt'],
  ['dpkg-deb', 'dpkg'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  ['sshd', 'openssh-server'],
  ['ip', 'iproute2'],
  ['ss', 'iproute2'],
  ['setpriv', 'util-linux'],
  ['unshare', 'util-linux'],
  ['nsenter', 'util-linux'],
  ['ipvsadm', 'ipvsadm'],
  ['arptables', 'arptables'],
  ['curl', 'curl'],
  ['nft', 'nftables'],
];

export interface Missing {
  readonly what: string;
  readonly aptPackage?: string;
}

export function missingPrerequisites(isRoot = process.getuid?.() === 0, find = findExecutable): Missing[] {
  const missing: Missing[] = [];
  if (process.platform !== 'linux') missing.push({ what: 'Linux' });
  if (!isRoot) missing.push({ what: 'root (qemu shares / with passthrough permissions; namespaces and mounts inside the guest)' });
  const seen = new Set<string>();
  for (const [tool, aptPackage] of tools) {
    if (find(tool) !== undefined || seen.has(tool)) continue;
    seen.add(tool);
    missing.push({ what: `${tool} (package ${aptPackage})`, aptPackage });
  }
  return missing;
}

/** The lines to print: what is missing, then the one command that installs the packages. */
export function describeMissing(missing: readonly Missing[]): string[] {
  const packages = [...new Set(missing.flatMap((item) => (item.aptPackage ? [item.aptPackage] : [])))];
  return [
    `lvsprov lab cannot run here; missing: ${missing.map((item) => item.what).join(', ')}`,
    ...(packages.length > 0 ? [`install with: apt-get install -y ${packages.join(' ')}`] : []),
    ...(missing.some((item) => item.what.startsWith('root')) ? ['run lvsprov lab as root (e.g. with sudo)'] : []),
  ];
}

/** The machine lacks what the lab needs; `lines` say what and how to install it. */
export class LabUnavailableError extends Error {
  constructor(readonly lines: readonly string[]) {
    super(lines.join('\n'));
    this.name = 'LabUnavailableError';
  }
}

/** Throws LabUnavailableError naming everything missing at once. */
export function requirePrerequisites(): void {
  const missing = missingPrerequisites();
  if (missing.length > 0) throw new LabUnavailableError(describeMissing(missing));
}
