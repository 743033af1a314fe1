import { quote } from '../shell/quote.js';
import { sysctlValue } from '../config/values.js';
import { ensureDirectoryCommand, replaceViaTemp } from './file-state.js';

// What a kernel parameter was before lvsprov first changed it, kept on the host itself so that
// `lvsprov reset` can put it back from any machine. One `name=value` line per key, written only
// for keys that have no line yet: a later apply never overwrites the original with lvsprov's own
// value. Reset drops the lines of the keys it restored and the file (and its directory) with the
// last one.

export const ORIGINALS_DIR = '/var/lib/lvsprov';
export const ORIGINALS_FILE = `${ORIGINALS_DIR}/sysctl-originals`;

/**
 * Prints `O name=value` for every recorded key, as `sed 's/^/O /'` would (a last line without its
 * newline stays without), in shell builtins: the file is read on every host in every run.
 */
export function readOriginalsSnippet(): string {
  const file = quote(ORIGINALS_FILE);
  return `if [ -f ${file} ]; then { while IFS= read -r o; do printf 'O %s\\n' "$o"; done && { [ -z "$o" ] || printf 'O %s' "$o"; }; } < ${file}; fi`;
}

/** The `O` lines of readOriginalsSnippet, for the given keys only. */
export function parseOriginals(lines: readonly string[], names: readonly string[]): Record<string, string> {
  const wanted = new Set(names);
  const originals: Record<string, string> = {};
  for (const line of lines) {
    if (!line.startsWith('O ')) continue;
    const text = line.slice(2);
    const at = text.indexOf('=');
    const name = text.slice(0, at);
    // The first line of a key wins, as it does in recordOriginalsCommands.
    if (at > 0 && wanted.has(name) && originals[name] === undefined) originals[name] = text.slice(at + 1);
  }
  return originals;
}

/**
 * Record the value of each key not recorded yet. A key whose value the read found, as a plain
 * sysctl value (what reset will accept back), is recorded with that value: no process. A key the
 * read did not find (an earlier task of the same apply may just have created its device) or whose
 * value is not plain is read when the apply runs, with `sysctl -n`; newlines and tabs in a value
 * become spaces, so that every record stays one line; sysctl -w reads either. The file's lines are
 * kept (a last line without its newline gains one), and a key already recorded is left alone: the
 * first record of a key is its original.
 */
export function recordOriginalsCommands(names: readonly string[], known: Readonly<Record<string, string | null | undefined>> = {}): string[] {
  const record = (name: string): string => {
    const value = known[name];
    const plain = value !== undefined && value !== null && !value.includes('\n') && sysctlValue.safeParse(value).success ? value.replace(/\t/g, ' ') : undefined;
    const line = plain !== undefined
      ? `printf '%s\\n' ${quote(`${name}=${plain}`)}`
      : `if v=$(sysctl -n -- ${quote(name)} 2>/dev/null); then printf '%s=%s\\n' ${quote(name)} "$(printf '%s' "$v" | tr '\\t\\n' '  ')"; fi`;
    return `case $r in *${quote(` ${name} `)}*) ;; *) ${line} ;; esac`;
  };
  return [
    ensureDirectoryCommand(ORIGINALS_DIR),
    `o=${quote(ORIGINALS_FILE)}`,
    replaceViaTemp('"$o.lvsprov-tmp"', '"$o"', [
      `{ r=' '; if [ -f "$o" ]; then while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "$l"; r="$r\${l%%=*} "; done < "$o"; fi; ` +
        `${names.map(record).join('; ')}; } > "$o.lvsprov-tmp"`,
    ]),
  ];
}

/** Drop the lines of the given keys; remove the file, and lvsprov's directory if empty, with the last line. */
export function forgetOriginalsCommands(names: readonly string[]): string[] {
  const drop = `BEGIN { n = split(drop, d, " "); for (i = 1; i <= n; i++) gone[d[i]] = 1 } !($1 in gone)`;
  return [
    `o=${quote(ORIGINALS_FILE)}; if [ -f "$o" ]; then ` +
      `awk -F= -v drop=${quote(names.join(' '))} ${quote(drop)} "$o" > "$o.lvsprov-tmp" || { s=$?; rm -f -- "$o.lvsprov-tmp"; exit "$s"; }; ` +
      `if [ -s "$o.lvsprov-tmp" ]; then mv -f -- "$o.lvsprov-tmp" "$o"; ` +
      `else rm -f -- "$o.lvsprov-tmp" "$o"; rmdir -- ${quote(ORIGINALS_DIR)} 2>/dev/null || true; fi; fi`,
  ];
}

/** The key whose value a new device's rp_filter starts from. */
export const DEFAULT_RP_FILTER = 'net.ipv4.conf.default.rp_filter';

/**
 * The value a key goes back to when lvsprov set it but holds no record of its original (a host
 * provisioned before originals were recorded, or a deleted record), where the kernel's default is
 * known: 0 for ip_forward and for arp_ignore/arp_announce anywhere; rp_filter 0 on `all` and
 * `default` (the compiled-in values) and, on a device, whatever `default` holds now (what the
 * kernel gives a device created now). Any other key: null, left as it is.
 */
export function kernelDefault(name: string, runtime: Readonly<Record<string, string | null>>): string | null {
  if (name === 'net.ipv4.ip_forward') return '0';
  const conf = /^net\.ipv4\.conf\.(.+)\.(arp_ignore|arp_announce|rp_filter)$/.exec(name);
  if (conf === null) return null;
  if (conf[2] !== 'rp_filter' || conf[1] === 'all' || conf[1] === 'default') return '0';
  return runtime[DEFAULT_RP_FILTER]?.trim() ?? null;
}
