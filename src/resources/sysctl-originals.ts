import { command, quote } from '../shell/quote.js';
import { replaceViaTemp } from './file-state.js';

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

// awk compares whole names: a regex or fixed-string grep would let `conf.lo.arp_ignore` match
// inside a longer name.
const HAS_KEY = `awk -F= -v k="$k" '$1 == k { found = 1 } END { exit !found }' "$o"`;

/**
 * Record the current runtime value of each key not recorded yet, read when the apply runs (an
 * earlier task of the same apply may just have created the key's device). Newlines in a value
 * become spaces, so that every record stays one line; sysctl -w reads either.
 */
export function recordOriginalsCommands(names: readonly string[]): string[] {
  return [
    command('mkdir', '-p', '--', ORIGINALS_DIR),
    `o=${quote(ORIGINALS_FILE)}`,
    replaceViaTemp('"$o.lvsprov-tmp"', '"$o"', [
      `{ if [ -f "$o" ]; then cat -- "$o"; fi; for k in ${names.map(quote).join(' ')}; do ` +
        `if [ -f "$o" ] && ${HAS_KEY}; then continue; fi; ` +
        `if v=$(sysctl -n -- "$k" 2>/dev/null); then printf '%s=%s\\n' "$k" "$(printf '%s' "$v" | tr '\\t\\n' '  ')"; fi; ` +
        `done; } > "$o.lvsprov-tmp"`,
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
