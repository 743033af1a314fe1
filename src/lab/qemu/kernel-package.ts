// Pure parsers for what apt and an extracted kernel package tell us; kept apart from the I/O so
// they can be tested on recorded output.

/** Exact Debian kernel image package names, e.g. linux-image-6.1.0-56-amd64. */
const packagePattern = /^linux-image-\d+\.\d+[a-z0-9.+~-]*$/;

/** Kernel release strings as they appear under lib/modules, e.g. 6.1.0-56-amd64. */
const releasePattern = /^\d+\.\d+[A-Za-z0-9.+_~-]*$/;

export function isKernelPackageName(name: string): boolean {
  return packagePattern.test(name);
}

export function isKernelRelease(release: string): boolean {
  return releasePattern.test(release);
}

/**
 * The exact image package the `linux-image-amd64` metapackage points at, from the output of
 * `apt-cache depends linux-image-amd64`. Downloading the metapackage's wildcard instead would
 * fetch every kernel version in the archive.
 */
export function parseImageDependency(aptCacheDependsOutput: string): string | undefined {
  for (const line of aptCacheDependsOutput.split('\n')) {
    const match = /^\s*\|?Depends:\s+(\S+)\s*$/.exec(line);
    const name = match?.[1];
    if (name && isKernelPackageName(name)) return name;
  }
  return undefined;
}

/** The one kernel release an extracted image package ships modules for. */
export function pickRelease(moduleDirs: readonly string[]): string {
  const releases = moduleDirs.filter(isKernelRelease);
  if (releases.length !== 1) {
    throw new Error(`expected one kernel release under lib/modules, found: ${moduleDirs.join(', ') || 'none'}`);
  }
  return releases[0] as string;
}
