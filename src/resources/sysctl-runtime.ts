import { sysctlName } from '../config/values.js';
import { quote } from '../shell/quote.js';

// The runtime values of kernel parameters, read for the sysctl probe: one line `R name value` per
// key that exists, `M name` per key that does not. Every key costs a process with `sysctl -n`;
// one `tail` reads every key's file under /proc/sys at once, and the shell splits its output by
// tail's `==> file <==` headers. A /proc/sys file must be read whole in one read(2) (integer
// handlers answer nothing at an offset), so the shell's own `read`, which takes a byte at a time,
// cannot do it. When tail fails (a key missing or unreadable, a subtree, a tail without -v), the
// keys are read one `sysctl -n` at a time as before, so what the probe prints never depends on
// which way it went.

/** sysctl's name-to-path rule: dots separate levels, a slash stands for a dot within one (eth0/100). */
export function procSysPath(name: string): string {
  return `/proc/sys/${name.replace(/[./]/g, (char) => (char === '.' ? '/' : '.'))}`;
}

// A newline inside a shell word: the value lines are joined with it.
const NL = `'\n'`;

export function readRuntimeSnippet(names: readonly string[]): string {
  // tail without a file would read the script itself from sh's stdin.
  if (names.length === 0) return '';
  const keys = names.map(quote).join(' ');
  const headers = names.map((name) => `    ${quote(`==> ${procSysPath(name)} <==`)}) h=${quote(name)} ;;`);
  return [
    'r= k= h= v= n= c=0',
    `if t=$(tail -v -n +1 -- ${names.map((name) => quote(procSysPath(name))).join(' ')} 2>/dev/null); then`,
    '  while IFS= read -r l; do',
    '    case $l in',
    ...headers,
    '    *) h= ;;',
    '    esac',
    // A header ends the key before it; trailing empty lines are dropped, as $(sysctl -n) drops them.
    `    if [ -n "$h" ]; then [ -z "$k" ] || r="$r"R" $k $v"${NL}; k=$h v= n= c=$((c + 1))`,
    `    elif [ -z "$l" ]; then n="$n"${NL}`,
    `    else v="$v$n$l" n=${NL}; fi`,
    '  done <<lvsprov_values',
    '$t',
    'lvsprov_values',
    `  [ -z "$k" ] || r="$r"R" $k $v"${NL}`,
    'fi',
    `if [ "$c" = ${names.length} ]; then printf '%s' "$r"; else`,
    `  for k in ${keys}; do if v=$(sysctl -n -- "$k" 2>/dev/null); then printf 'R %s %s\\n' "$k" "$v"; else printf 'M %s\\n' "$k"; fi; done`,
    'fi',
  ].join('\n');
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
