import { sysctlName } from '../config/values.js';
import { quote } from '../shell/quote.js';
import { prefetchedValueOr } from './file-prefetch.js';

// The runtime values of kernel parameters, read for the sysctl probe: one line `R name value` per
// key that exists, `M name` per key that does not. Every key costs a process with `sysctl -n`, so
// the read script's prefetch reads every key's file under /proc/sys with the files it reads
// (file-prefetch.ts: one tail for all of them); a key it did not read (not there, unreadable, a
// subtree, or a read without the prefetch) is read here with `sysctl -n`, one at a time, so what
// the probe prints never depends on which way it went. A /proc/sys file must be read whole in one
// read(2) (integer handlers answer nothing at an offset), so the shell's own `read`, which takes a
// byte at a time, cannot read it.

/** sysctl's name-to-path rule: dots separate levels, a slash stands for a dot within one (eth0/100). */
export function procSysPath(name: string): string {
  return `/proc/sys/${name.replace(/[./]/g, (char) => (char === '.' ? '/' : '.'))}`;
}

export function readRuntimeSnippet(names: readonly string[]): string {
  return names
    .map((name) => {
      const key = quote(name);
      const path = quote(procSysPath(name));
      // A key whose file is not there needs no sysctl to say so.
      const alone = `if [ -e ${path} ] && v=$(sysctl -n -- ${key} 2>/dev/null); then printf 'R %s %s\\n' ${key} "$v"; else printf 'M %s\\n' ${key}; fi`;
      return prefetchedValueOr(procSysPath(name), `R ${name} `, alone);
    })
    .join('\n');
}

// One write(2) of the shell's printf reaches the kernel whole; a value beyond a page would not.
const LONGEST_WRITTEN = 1024;

/**
 * What `sysctl -q -w name=value` does, without its process: the shell's printf writes the value
 * to the key's /proc/sys file. The path is built from a name the schema checked (letters, digits
 * and `_ : @ -` between dots or slashes: no `..`, no glob, nothing outside /proc/sys), checked
 * again here; the value is quoted. A missing key or a value the kernel refuses fails the command,
 * as it fails sysctl. A value too long for one write goes through sysctl.
 */
export function setRuntimeCommand(name: string, value: string): string {
  if (!sysctlName.safeParse(name).success) throw new Error(`not a sysctl name: ${name.slice(0, 80)}`);
  if (value.length > LONGEST_WRITTEN) return `sysctl -q -w ${quote(`${name}=${value}`)}`;
  return `printf '%s\\n' ${quote(value)} > ${quote(procSysPath(name))}`;
}
