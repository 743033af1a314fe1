import { quote } from '../shell/quote.js';

// Reading a file cost each probe three processes on the host (a subshell for `$(stat)`, stat,
// base64), and a host's probes read five to ten files: on a small VM, processes are most of what
// a read costs the host. The read script now reads them all first, in the shell itself: one stat
// and one `cat | base64` for every regular file its probes name. (One od would do for cat and
// base64, but its hex is three bytes a byte on the wire against base64's 1.33: on a slow link a
// read of the bench's host took twice as long.) Each file probe then prints a reference (`F@ ID`)
// in place of the file, and parseReadSections puts the file back, so parsers see the line they
// always saw.
//
// The probe keeps its own read and uses it whenever the prefetch did not cover the file: a
// symlink (whose own mode a probe reports), a file that is not there, a nested probe run by
// another shell (the ownership manifest's), or a prefetch that failed (a file changed between
// stat and cat, a file it could not read): the shell checks the length of what it read against
// the sizes stat gave before it hands out a single reference.

/** The name a file goes by between the read script and its parser: its path in base64 (no shell or pattern character). */
export function prefetchId(path: string): string {
  return Buffer.from(path, 'utf8').toString('base64');
}

/** The shell variable holding `|ID|` for every file the prefetch read. */
export const PREFETCHED = 'lvsprov_prefetched';

/** How a file probe refers to a prefetched file; `fallback` reads it itself. */
export function prefetchedOr(path: string, fallback: string): string {
  const id = prefetchId(path);
  return `case $${PREFETCHED} in *'|${id}|'*) printf 'F@ ${id}\\n' ;; *) ${fallback} ;; esac`;
}

const REFERENCE = /\*'\|([A-Za-z0-9+/=]+)\|'\*\)/g;

/** The paths the probes' file reads name, once each, in order. */
export function prefetchPaths(probes: readonly string[]): string[] {
  const ids = new Set<string>();
  for (const probe of probes) for (const match of probe.matchAll(REFERENCE)) ids.add(match[1] as string);
  return [...ids].map((id) => Buffer.from(id, 'base64').toString('utf8'));
}

/**
 * Shell run in the read script's own shell (it sets PREFETCHED for the probes after it): prints
 * the ids, one `mode size` line per file and the files' bytes in base64, or nothing when it read
 * nothing it can vouch for: the base64 must be exactly as long as the sizes stat gave make it.
 */
export function prefetchScript(paths: readonly string[]): string {
  return [
    `${PREFETCHED}=''`,
    'lvsprov_ids=',
    'set --',
    ...paths.map((path) => {
      const p = quote(path);
      return `if [ -f ${p} ] && [ ! -h ${p} ]; then set -- "$@" ${p}; lvsprov_ids="$lvsprov_ids|${prefetchId(path)}|"; fi`;
    }),
    `if [ $# -gt 0 ] && lvsprov_sizes=$(stat -c '%a %s' -- "$@") && lvsprov_data=$(cat -- "$@" | base64 -w0); then`,
    '  set -- $lvsprov_sizes',
    '  lvsprov_total=0',
    '  while [ $# -gt 1 ]; do lvsprov_total=$((lvsprov_total + $2)); shift 2; done',
    '  if [ "${#lvsprov_data}" -eq $(( (lvsprov_total + 2) / 3 * 4 )) ]; then',
    `    ${PREFETCHED}=$lvsprov_ids`,
    `    printf '%s\\n%s\\n%s' "$lvsprov_ids" "$lvsprov_sizes" "$lvsprov_data"`,
    '  fi',
    'fi',
    'set --',
    'unset lvsprov_ids lvsprov_sizes lvsprov_data lvsprov_total',
  ].join('\n');
}

/** The file lines (`F <mode> <base64>`) of what prefetchScript printed, by id; empty when it printed nothing usable. */
export function prefetchedFiles(output: string): Map<string, string> {
  const files = new Map<string, string>();
  if (output === '') return files;
  const lines = output.split('\n');
  const ids = (lines[0] ?? '').split('|').filter((id) => id !== '');
  const sizes = lines.slice(1, 1 + ids.length).map((line) => /^(\d+) (\d+)$/.exec(line));
  const data = Buffer.from(lines[1 + ids.length] ?? '', 'base64');
  if (sizes.some((size) => size === null) || sizes.reduce((sum, size) => sum + Number(size?.[2]), 0) !== data.length) return files;
  let offset = 0;
  ids.forEach((id, index) => {
    const [, mode, size] = sizes[index] as RegExpExecArray;
    const end = offset + Number(size);
    files.set(id, `F ${mode} ${data.subarray(offset, end).toString('base64')}`);
    offset = end;
  });
  return files;
}

/** `stdout` with every reference to a prefetched file replaced by the file's line. */
export function withPrefetchedFiles(stdout: string, files: ReadonlyMap<string, string>): string {
  if (files.size === 0 || !stdout.includes('F@ ')) return stdout;
  return stdout.replace(/^F@ (\S+)$/gm, (reference, id: string) => files.get(id) ?? reference);
}
