import { ProbeError } from '../errors.js';
import { quote } from '../shell/quote.js';

// On a small VM each process a read starts costs the host a few milliseconds of CPU, and every
// host runs the read on every run. So the read script reads every file its probes name, and
// every kernel value (/proc/sys) they read, at once, in two processes: one `stat` for the modes
// and sizes, one `tail -v -n +1` that prints each file whole after a `==> path <==` header. Its
// output goes to the host's stdout as it is (no base64, no capture in the shell); the control
// node splits it by the sizes stat gave, which the headers must then fall on exactly. A file
// probe prints a reference (`F@ ID`) in the file's place and a value probe one (`V@ ID text`)
// in its value's, and parseReadSections puts them back, so parsers see the lines they always saw.
//
// The probe keeps its own read and uses it whenever the prefetch did not cover the path: a
// symlink (whose own mode a probe reports), a path that is not there, a nested probe run by
// another shell, or a stat or tail that failed. A file that changed between stat and tail
// cannot be caught in the shell (it never sees tail's output): the control node finds the
// headers off their places and reads again without the prefetch (PrefetchMismatchError).

/** The name a path goes by between the read script and its parser: the path in base64 (no shell or pattern character). */
export function prefetchId(path: string): string {
  return Buffer.from(path, 'utf8').toString('base64');
}

/** The shell variable holding `|ID|` (a file) or `|:ID|` (a value) for every path the prefetch read. */
export const PREFETCHED = 'lvsprov_prefetched';

/**
 * What a path's content is to its probe: a `file` (mode and bytes, sized by stat) or a `value`
 * (a /proc/sys file: stat says 0 bytes, and the text runs to the next header).
 */
export type PrefetchKind = 'file' | 'value';

export interface PrefetchPath {
  readonly path: string;
  readonly kind: PrefetchKind;
  /**
   * A file the prefetch leaves out when its first line is this one (read by the shell's own
   * `read`, no process): its probe then knows the rest without it (prefetchedUnlessHeadOr).
   */
  readonly unlessHead?: string;
}

/** Pseudo-filesystems: stat gives no size a read of the file agrees with. */
const unsized = (path: string): boolean => /^\/(proc|sys)\//.test(path);

/** How a file probe refers to a prefetched file; `fallback` reads it itself. */
export function prefetchedOr(path: string, fallback: string): string {
  // A file under /proc or /sys reads itself: its size is not what stat says.
  if (unsized(path)) return fallback;
  const id = prefetchId(path);
  return `case $${PREFETCHED} in *'|${id}|'*) printf 'F@ ${id}\\n' ;; *) ${fallback} ;; esac`;
}

/**
 * Shell: `then` when the first line of `file` (a shell word, quoted by the caller) is `head`, else
 * `otherwise`. The line is read by the shell's own `read`, a byte per system call (a few hundred),
 * where a program would be a process; an unreadable file reads as an empty line.
 */
export function ifFirstLineIs(file: string, head: string, then: string, otherwise: string): string {
  return `lvsprov_head=; { IFS= read -r lvsprov_head <${file}; } 2>/dev/null; if [ "$lvsprov_head" = ${quote(head)} ]; then ${then}; else ${otherwise}; fi`;
}

/**
 * How a file probe refers to a file the prefetch leaves out when its first line is `head`:
 * `same` runs then, in the file's place, `fallback` when the prefetch did not cover the path
 * (which must then compare the first line itself). The head travels, in base64, in the pattern
 * that prefetchPaths finds: the prefetch compares with it and marks the path `|=ID.HEAD|`.
 */
export function prefetchedUnlessHeadOr(path: string, head: string, same: string, fallback: string): string {
  const id = prefetchId(path);
  return `case $${PREFETCHED} in *'|=${id}.${prefetchId(head)}|'*) ${same} ;; *'|${id}|'*) printf 'F@ ${id}\\n' ;; *) ${fallback} ;; esac`;
}

/**
 * How a probe prints `text` followed by the value of a /proc/sys file (trailing newlines dropped,
 * as `$(...)` drops them), read by the prefetch; `fallback` reads it itself. `text` is printed
 * as it is (quoted here).
 */
export function prefetchedValueOr(path: string, text: string, fallback: string): string {
  const id = prefetchId(path);
  return `case $${PREFETCHED} in *'|:${id}|'*) printf 'V@ ${id} %s\\n' ${quote(text)} ;; *) ${fallback} ;; esac`;
}

const REFERENCE = /\*'\|([:=]?)([A-Za-z0-9+/=]+)(?:\.([A-Za-z0-9+/=]+))?\|'\*\)/g;

const unb64 = (id: string): string => Buffer.from(id, 'base64').toString('utf8');

/** The paths the probes' reads name, once each, in order. */
export function prefetchPaths(probes: readonly string[]): PrefetchPath[] {
  const seen = new Map<string, PrefetchKind>();
  const heads = new Map<string, string>();
  for (const probe of probes) {
    for (const match of probe.matchAll(REFERENCE)) {
      const id = match[2] as string;
      if (match[1] === '=' && match[3] !== undefined && !heads.has(id)) heads.set(id, unb64(match[3]));
      if (!seen.has(id)) seen.set(id, match[1] === ':' ? 'value' : 'file');
    }
  }
  return [...seen].map(([id, kind]) => {
    const head = kind === 'file' ? heads.get(id) : undefined;
    return { path: unb64(id), kind, ...(head !== undefined ? { unlessHead: head } : {}) };
  });
}

/**
 * Shell run in the read script's own shell (it sets PREFETCHED for the probes after it) that
 * prints the ids, one `mode size` line per path, and tail's output; its status, in
 * `lvsprov_rc`, is 0 only when tail read every path. A path that is not there (or is a symlink)
 * is left out, and its probe reads it.
 */
export function prefetchScript(paths: readonly PrefetchPath[]): string {
  const guarded = paths.some((path) => path.unlessHead !== undefined);
  return [
    `${PREFETCHED}=''`,
    `lvsprov_ids= lvsprov_rc=1${guarded ? ' lvsprov_same=' : ''}`,
    'set --',
    ...paths.map(({ path, kind, unlessHead }) => {
      const p = quote(path);
      const id = `${kind === 'value' ? ':' : ''}${prefetchId(path)}`;
      const add = `set -- "$@" ${p}; lvsprov_ids="$lvsprov_ids|${id}|"`;
      if (unlessHead === undefined) return `if [ -f ${p} ] && [ ! -h ${p} ]; then ${add}; fi`;
      // The first line read a byte per system call (a few hundred), where the file is kilobytes.
      const same = `lvsprov_same="$lvsprov_same|=${id}.${prefetchId(unlessHead)}|"`;
      return `if [ -f ${p} ] && [ ! -h ${p} ]; then ${ifFirstLineIs(p, unlessHead, same, add)}; fi`;
    }),
    `if [ $# -gt 0 ] && lvsprov_sizes=$(stat -c '%a %s' -- "$@"); then`,
    `  printf '%s\\n%s\\n' "$lvsprov_ids" "$lvsprov_sizes"`,
    '  tail -v -n +1 -- "$@"; lvsprov_rc=$?',
    `  [ "$lvsprov_rc" -ne 0 ] || ${PREFETCHED}=$lvsprov_ids`,
    'fi',
    // A path left out by its first line is known whatever tail did.
    ...(guarded ? [`${PREFETCHED}="$${PREFETCHED}$lvsprov_same"`] : []),
    'set --',
    `unset lvsprov_ids lvsprov_sizes${guarded ? ' lvsprov_same lvsprov_head' : ''}`,
  ].join('\n');
}

/** The prefetch read, by id: a file's line (`F <mode> <base64>`) or a value's text. */
export interface Prefetched {
  readonly files: ReadonlyMap<string, string>;
  readonly values: ReadonlyMap<string, string>;
}

export const NOTHING_PREFETCHED: Prefetched = { files: new Map(), values: new Map() };

/** What the prefetch printed (its section's bytes) did not split the way stat's sizes say. */
export class PrefetchMismatchError extends ProbeError {
  override name = 'PrefetchMismatchError';
}

const NEWLINE = 0x0a;

/**
 * Split what prefetchScript printed (with status 0). Throws PrefetchMismatchError when tail's
 * headers are not where the sizes put them: a file changed between stat and tail.
 */
export function prefetchedFiles(output: Buffer): Prefetched {
  const files = new Map<string, string>();
  const values = new Map<string, string>();
  if (output.length === 0) return NOTHING_PREFETCHED;
  const mismatch = (why: string): PrefetchMismatchError => new PrefetchMismatchError(`the files read at once did not match their sizes (${why}): a file changed while it was read`);
  const idsEnd = output.indexOf(NEWLINE);
  const ids = output.subarray(0, idsEnd < 0 ? 0 : idsEnd).toString('latin1').split('|').filter((id) => id !== '');
  let offset = idsEnd + 1;
  const sizes: Array<{ mode: string; size: number }> = [];
  for (const _ of ids) {
    const end = output.indexOf(NEWLINE, offset);
    const line = /^(\d+) (\d+)$/.exec(output.subarray(offset, end < 0 ? offset : end).toString('latin1'));
    if (end < 0 || !line) throw mismatch('stat printed no size');
    sizes.push({ mode: line[1] as string, size: Number(line[2]) });
    offset = end + 1;
  }
  const header = (index: number): Buffer => {
    const id = ids[index] as string;
    const path = Buffer.from(id.startsWith(':') ? id.slice(1) : id, 'base64');
    return Buffer.concat([Buffer.from(index === 0 ? '==> ' : '\n==> '), path, Buffer.from(' <==\n')]);
  };
  ids.forEach((id, index) => {
    const head = header(index);
    if (!output.subarray(offset, offset + head.length).equals(head)) throw mismatch(`no header for the file at byte ${offset}`);
    offset += head.length;
    if (id.startsWith(':')) {
      const next = index + 1 < ids.length ? output.indexOf(header(index + 1), offset) : output.length;
      if (next < 0) throw mismatch('a value ran past the next header');
      values.set(id.slice(1), output.subarray(offset, next).toString('utf8').replace(/\n+$/, ''));
      offset = next;
      return;
    }
    const { mode, size } = sizes[index] as { mode: string; size: number };
    if (offset + size > output.length) throw mismatch('a file was shorter than its size');
    files.set(id, `F ${mode} ${output.subarray(offset, offset + size).toString('base64')}`);
    offset += size;
  });
  if (offset !== output.length) throw mismatch('bytes were left after the last file');
  return { files, values };
}

/**
 * `stdout` with every reference to a prefetched path replaced: a file's by its line, a value's by
 * its text after the probe's own. Throws PrefetchMismatchError for a reference to a path the
 * prefetch did not read (the probes were told it did).
 */
export function withPrefetchedFiles(stdout: string, prefetched: Prefetched): string {
  if (!stdout.includes('@ ')) return stdout;
  const missing = (id: string): never => {
    throw new PrefetchMismatchError(`the read referred to ${Buffer.from(id, 'base64').toString('utf8')}, which the files read at once did not hold`);
  };
  return stdout
    .replace(/^F@ (\S+)$/gm, (_, id: string) => prefetched.files.get(id) ?? missing(id))
    .replace(/^V@ (\S+) (.*)$/gm, (_, id: string, text: string) => {
      const value = prefetched.values.get(id);
      return value === undefined ? missing(id) : `${text}${value}`;
    });
}
