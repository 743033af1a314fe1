import { randomBytes } from 'node:crypto';
import { prefetchedFiles, prefetchPaths, prefetchScript, withPrefetchedFiles } from '../resources/file-prefetch.js';
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
 */
export function readScript(nonce: string, probes: readonly string[], prelude?: string): string {
  const lines = [scriptEnvironment, ...(prelude ? [prelude] : [])];
  // The files the probes read, read at once in this shell (file-prefetch.ts): a section after the probes' own.
  const files = prefetchPaths(probes);
  if (files.length > 0) lines.push(begin(nonce, probes.length), prefetchScript(files), end(nonce, probes.length, '0'));
  probes.forEach((probe, index) => {
    lines.push(begin(nonce, index), mayExit(probe) ? `(\n${probe}\n)` : `{\n${probe}\n}`, 'rc=$?', end(nonce, index));
  });
  return `${lines.join('\n')}\n`;
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
 * and prints its marker itself. Change commands set every variable before they read it
 * (test/unit/apply-isolation.test.ts), so one change's variables never reach the next.
 */
export function applyScript(nonce: string, changes: ReadonlyArray<readonly string[]>, prelude?: string): string {
  const lines = [scriptEnvironment, ...(prelude ? [prelude] : []), 'umask 022'];
  changes.forEach((commands, index) => {
    lines.push(
      begin(nonce, index),
      `trap '${end(nonce, index, '"$?"')}' EXIT`,
      `{ set -e\n${commands.join('\n')}\n} 2>&1`,
      'rc=$?',
      'set +e',
      'trap - EXIT',
      end(nonce, index),
      '[ "$rc" -eq 0 ] || exit "$rc"',
    );
  });
  return `${lines.join('\n')}\n`;
}

/** The probes' sections of a read script's output, each file it prefetched put back where a probe referred to it. */
export function parseReadSections(nonce: string, output: string, probeCount: number): Map<number, SectionResult> {
  const sections = parseSections(nonce, output);
  const prefetch = sections.get(probeCount);
  sections.delete(probeCount);
  const files = prefetchedFiles(prefetch?.stdout ?? '');
  if (files.size > 0) for (const [index, section] of sections) sections.set(index, { ...section, stdout: withPrefetchedFiles(section.stdout, files) });
  return sections;
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
