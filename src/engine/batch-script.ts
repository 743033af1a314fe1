import { randomBytes } from 'node:crypto';
import { ensuredDirectories, makeDirectoriesAtOnce } from '../resources/file-state.js';
import { NOTHING_PREFETCHED, prefetchedFiles, prefetchPaths, prefetchScript, withPrefetchedFiles } from '../resources/file-prefetch.js';
import { LOCK_FD_CLOSED } from '../lock/lock-script.js';
import { scriptEnvironment } from '../shell/script-environment.js';

// One script per round trip. Each section is wrapped in markers that carry a per-run nonce, so
// nothing a host prints (a file's content, an error message) can be mistaken for a marker, and the
// end marker carries the section's exit status.

export interface SectionResult {
  readonly stdout: string;
  readonly status: number;
}

export function newNonce(): string {
  return randomBytes(9).toString('hex');
}

function begin(nonce: string, index: number): string {
  return `printf '%s\\n' '<<<${nonce} ${index}'`;
}

/** The end marker with the section's status (a shell word). No single quote: it also runs inside a trap's. */
function end(nonce: string, index: number, status = '"$rc"'): string {
  return `printf "\\n>>>${nonce} ${index} %s\\n" ${status}`;
}

/**
 * The read script: each probe runs whatever the others do. stderr goes to the channel's stderr, so
 * parsers see only what the probe printed on stdout. A prelude (the host lock) runs first and may
 * end the script before any probe.
 *
 * A probe runs in the script's own shell unless it may `exit` (a status probe ends early with a
 * status of its own): then in a subshell, where the exit ends it alone. A subshell costs the host
 * a process, about 1.7 ms of CPU on a small VM, and a read has eight to twelve probes. Probes set
 * every variable they read before reading it (test/unit/probe-isolation.test.ts holds them to it),
 * so one left behind by a probe never changes the next.
 *
 * Probes run without the host lock's descriptor (LOCK_FD_CLOSED), which the shell keeps.
 *
 * `prefetch: false` leaves the files to their probes: the read again after a file changed under
 * the prefetch (PrefetchMismatchError). `alsoPrefetch`: probes the read does not run itself whose
 * paths the prefetch reads too, for probes that run in shells of their own and are handed what it
 * read (a reset's recorded probes, ownership/manifest.ts).
 */
export function readScript(nonce: string, probes: readonly string[], prelude?: string, options: ReadOptions = {}): string {
  return `${[scriptEnvironment, ...(prelude ? [prelude] : []), ...readLines({ begin: (index) => begin(nonce, index), end: (index, status) => end(nonce, index, status) }, probes, options)].join('\n')}\n`;
}

/** How a read's sections are marked: by a nonce written in, or one a function takes as its argument. */
export interface SectionMarks {
  begin(index: number): string;
  end(index: number, status?: string): string;
}

/**
 * The marks of a read whose nonce is in the shell variable `variable` (a read defined once as a
 * function, see read-function.ts): the same lines in the output as begin and end print.
 */
export function marksFrom(variable: string): SectionMarks {
  return {
    begin: (index) => `printf '<<<%s ${index}\\n' "$${variable}"`,
    end: (index, status = '"$rc"') => `printf '\\n>>>%s ${index} %s\\n' "$${variable}" ${status}`,
  };
}

export interface ReadOptions {
  readonly prefetch?: boolean;
  readonly alsoPrefetch?: readonly string[];
}

/** The probes' part of a read script (readScript): the prefetch, then each probe in its section. */
export function readLines(marks: SectionMarks, probes: readonly string[], options: ReadOptions = {}): string[] {
  const lines: string[] = [];
  // The files the probes read, read at once in this shell (file-prefetch.ts): a section after the probes' own.
  const paths = options.prefetch === false ? [] : prefetchPaths([...probes, ...(options.alsoPrefetch ?? [])]);
  if (paths.length > 0) lines.push(marks.begin(probes.length), `{\n${prefetchScript(paths)}\n} ${LOCK_FD_CLOSED}`, marks.end(probes.length, '"$lvsprov_rc"'));
  probes.forEach((probe, index) => {
    lines.push(marks.begin(index), mayExit(probe) ? `(\n${probe}\n) ${LOCK_FD_CLOSED}` : `{\n${probe}\n} ${LOCK_FD_CLOSED}`, 'rc=$?', marks.end(index));
  });
  return lines;
}

/** Whether a probe's text holds the word exit anywhere (in a string too: a subshell is never wrong). */
export const mayExit = (probe: string): boolean => /\bexit\b/.test(probe);

/**
 * The apply script: each change runs under `set -e` with stderr folded into its output; the first
 * failing change stops the script, so later changes never run on top of a failed one.
 *
 * A change runs in the script's own shell, not a subshell (a process per change, about 1.7 ms of
 * CPU on a small VM, and a first apply has ten to twenty changes per host). A failing command
 * then ends the whole shell, as it was meant to end the script anyway: an EXIT trap prints the
 * change's end marker with the status first. A change that ends without a failure clears the trap
 * and prints its marker itself. Changes run without the host lock's descriptor (LOCK_FD_CLOSED), so
 * a daemon a change starts never holds the lock. The directories the changes make when missing
 * are made first, in one process (makeDirectoriesAtOnce); a failed apply may leave some of them
 * empty, as directories a change made stay anyway. Change
 * commands set every variable before they read it (test/unit/apply-isolation.test.ts), so one
 * change's variables never reach the next.
 */
export function applyScript(nonce: string, changes: ReadonlyArray<readonly string[]>, prelude?: string): string {
  const directories = makeDirectoriesAtOnce(ensuredDirectories(changes));
  const lines = [scriptEnvironment, ...(prelude ? [prelude] : []), 'umask 022', ...(directories ? [`{ ${directories}; } ${LOCK_FD_CLOSED}`] : [])];
  changes.forEach((commands, index) => {
    lines.push(
      begin(nonce, index),
      `trap '${end(nonce, index, '"$?"')}' EXIT`,
      `{ set -e\n${commands.join('\n')}\n} 2>&1 ${LOCK_FD_CLOSED}`,
      'rc=$?',
      'set +e',
      'trap - EXIT',
      end(nonce, index),
      '[ "$rc" -eq 0 ] || exit "$rc"',
    );
  });
  return `${lines.join('\n')}\n`;
}

/**
 * The probes' sections of a read script's output, each path the prefetch read put back where a
 * probe referred to it. `output` is best given as the bytes the host sent: files are split by
 * their sizes in bytes (as text, a file that is not UTF-8 reads as changed, and is read again).
 * Throws PrefetchMismatchError when a file changed under the prefetch: read again without it.
 */
export function parseReadSections(nonce: string, output: string | Buffer, probeCount: number): Map<number, SectionResult> {
  const bytes = typeof output === 'string' ? Buffer.from(output, 'utf8') : output;
  const prefetch = prefetchSection(nonce, bytes, probeCount);
  const sections = parseSections(nonce, prefetch ? Buffer.concat([bytes.subarray(0, prefetch.start), bytes.subarray(prefetch.end)]).toString('utf8') : typeof output === 'string' ? output : output.toString('utf8'));
  const prefetched = prefetch && prefetch.status === 0 ? prefetchedFiles(prefetch.body) : NOTHING_PREFETCHED;
  for (const [index, section] of sections) sections.set(index, { ...section, stdout: withPrefetchedFiles(section.stdout, prefetched) });
  return sections;
}

/**
 * The prefetch's section, found in bytes: its body holds files as they are, which a UTF-8 string
 * would not keep byte for byte. `start` and `end` bound the whole section with its markers.
 */
function prefetchSection(nonce: string, output: Buffer, index: number): { start: number; end: number; body: Buffer; status: number } | undefined {
  const open = Buffer.from(`<<<${nonce} ${index}\n`);
  const start = output.indexOf(open);
  if (start < 0 || (start > 0 && output[start - 1] !== 0x0a)) return undefined;
  const close = Buffer.from(`\n>>>${nonce} ${index} `);
  const bodyStart = start + open.length;
  const closeAt = output.indexOf(close, bodyStart);
  if (closeAt < 0) return undefined;
  const lineEnd = output.indexOf(0x0a, closeAt + close.length);
  const status = /^\d+$/.exec(output.subarray(closeAt + close.length, lineEnd < 0 ? output.length : lineEnd).toString('latin1'));
  if (!status) return undefined;
  return { start, end: lineEnd < 0 ? output.length : lineEnd + 1, body: output.subarray(bodyStart, closeAt), status: Number(status[0]) };
}

/** Split a script's output into its sections; a section that never ended is absent from the map. */
export function parseSections(nonce: string, output: string): Map<number, SectionResult> {
  const results = new Map<number, SectionResult>();
  const pattern = new RegExp(`^<<<${nonce} (\\d+)\\n([\\s\\S]*?)\\n>>>${nonce} \\1 (\\d+)$`, 'gm');
  for (const match of output.matchAll(pattern)) {
    results.set(Number(match[1]), { stdout: match[2] ?? '', status: Number(match[3]) });
  }
  return results;
}

/** Output of a section that started but did not end (the script died inside it). */
export function unfinishedSection(nonce: string, output: string, index: number): string | undefined {
  const marker = `<<<${nonce} ${index}\n`;
  const start = output.indexOf(marker);
  return start < 0 ? undefined : output.slice(start + marker.length);
}
