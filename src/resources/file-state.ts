import { quote } from '../shell/quote.js';
import { prefetchedOr } from './file-prefetch.js';
import type { Change } from './types.js';

// Files travel as base64 in both directions so that any byte, a missing trailing newline, or a
// line that looks like a section marker survives the trip through a shell script unchanged.

export interface FileState {
  readonly exists: boolean;
  readonly content: string;
  /** Octal mode such as `644`, when the file exists. */
  readonly mode?: string;
}

export const ABSENT_FILE: FileState = { exists: false, content: '' };

/**
 * Shell that prints one line `F- ` when absent, or `F <mode> <base64>` when present; in a read
 * script whose prefetch read the file, a reference the read's parser replaces by that line.
 */
export function readFileSnippet(path: string): string {
  const p = quote(path);
  return prefetchedOr(path, `if [ -f ${p} ]; then printf 'F %s ' "$(stat -c %a -- ${p})"; base64 -w0 < ${p}; printf '\\n'; else printf 'F-\\n'; fi`);
}

/** Parse one line printed by readFileSnippet. */
export function parseFileLine(line: string | undefined): FileState {
  if (line === undefined || line.startsWith('F-')) return ABSENT_FILE;
  const match = /^F (\d+) ?(\S*)$/.exec(line.trim());
  if (!match) throw new Error(`unexpected file probe line: ${line.slice(0, 80)}`);
  return { exists: true, mode: match[1], content: Buffer.from(match[2] ?? '', 'base64').toString('utf8') };
}

/**
 * Shell that runs `steps` (which write the temp file `tmp`) and renames it over `path`. If any step
 * fails (a full disk, a missing directory), the temp file is removed and the failing status kept,
 * so a failed write leaves the old file as it was and nothing beside it. `tmp` and `path` are
 * shell words, already quoted.
 */
export function replaceViaTemp(tmp: string, path: string, steps: readonly string[]): string {
  return `{ ${[...steps, `mv -f -- ${tmp} ${path}`].join(' && ')}; } || { s=$?; rm -f -- ${tmp}; exit "$s"; }`;
}

/**
 * Commands that replace `path` atomically: the new content is written beside it, given its mode,
 * and renamed over the old file, so a reader never sees a half-written file.
 */
export function writeFileCommands(path: string, content: string, mode = '644'): string[] {
  const slash = path.lastIndexOf('/');
  const dir = slash > 0 ? path.slice(0, slash) : '/';
  const tmp = quote(`${path}.lvsprov-tmp`);
  const data = Buffer.from(content, 'utf8').toString('base64');
  return [`mkdir -p -- ${quote(dir)}`, replaceViaTemp(tmp, quote(path), [`printf '%s' ${quote(data)} | base64 -d > ${tmp}`, `chmod ${quote(mode)} -- ${tmp}`])];
}

export function removeFileCommands(path: string): string[] {
  return [`rm -f -- ${quote(path)}`];
}

/** The change that deletes a file lvsprov wrote; the diff shows every line going. */
export function removeFileChange(path: string, file: FileState): Change {
  return { resource: `file ${path}`, summary: `remove ${path}`, diff: { kind: 'file', before: file.content, after: '' }, commands: removeFileCommands(path) };
}
