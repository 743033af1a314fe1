import { quote } from '../shell/quote.js';
import { prefetchedOr } from './file-prefetch.js';
import type { Change } from './types.js';

// Files come back from a host as base64, so that any byte, a missing trailing newline, or a line
// that looks like a section marker survives the trip through the script's output unchanged. They
// go to a host as one single-quoted shell word (printf, a builtin: no process), which carries any
// byte but NUL; content with a NUL goes as base64.

export interface FileState {
  readonly exists: boolean;
  readonly content: string;
  /** Octal mode such as `644`, when the file exists. */
  readonly mode?: string;
}

export const ABSENT_FILE: FileState = { exists: false, content: '' };

/**
 * Shell that prints one line `F- ` when absent, or `F <mode> <base64>` when present; in a read
 * script whose prefetch read the file, a reference the read's parser replaces by that line. A
 * symbolic link to a file reads as that file, its mode too (`stat -L`): the content is read
 * through the link and chmod changes the target, so the link's own 777 would be planned away on
 * every run.
 */
export function readFileSnippet(path: string): string {
  const p = quote(path);
  return prefetchedOr(path, `if [ -f ${p} ]; then printf 'F %s ' "$(stat -L -c %a -- ${p})"; base64 -w0 < ${p}; printf '\\n'; else printf 'F-\\n'; fi`);
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

/** The umask every apply script sets before its first change (engine/batch-script.ts). */
export const APPLY_UMASK = 0o022;

const octal = (mode: number): string => mode.toString(8).padStart(3, '0');

/** `mkdir -p` of a directory, in a process only when the directory is not there yet. */
export function ensureDirectoryCommand(dir: string): string {
  const d = quote(dir);
  return `[ -d ${d} ] || mkdir -p -- ${d}`;
}

/** An ensureDirectoryCommand line; group 1 is the directory as quote() wrote it (a bare word, or single-quoted). */
const ENSURE_DIRECTORY = /^\[ -d ([A-Za-z0-9_@%+=:,./-]+|'(?:[^']|'\\'')*') \] \|\| mkdir -p -- \1$/;

/**
 * The directories that these changes' commands make when missing (their ensureDirectoryCommand
 * lines), each once, as the quoted shell words those lines hold.
 */
export function ensuredDirectories(changes: ReadonlyArray<readonly string[]>): string[] {
  const words = new Set<string>();
  for (const commands of changes) for (const line of commands) {
    const word = ENSURE_DIRECTORY.exec(line)?.[1];
    if (word !== undefined) words.add(word);
  }
  return [...words];
}

/**
 * Shell that makes every missing directory of `words` (quoted, from ensuredDirectories) in one
 * `mkdir -p`, where each change's own line would start one of its own: a first apply that writes
 * files in three new directories starts one process instead of three. Nothing when all are there.
 * Its errors are left to the changes: each one's line then finds its directory still missing,
 * runs its own mkdir and reports the failure in its own section.
 */
export function makeDirectoriesAtOnce(words: readonly string[]): string | undefined {
  if (words.length < 2) return undefined;
  return `${words.map((word) => `[ -d ${word} ]`).join(' && ')} || mkdir -p -- ${words.join(' ')} 2>/dev/null || :`;
}

/**
 * Steps (for replaceViaTemp) that create the temp file `tmp` (a quoted shell word) afresh with
 * `content` and `mode`, in the shell's own builtins where they can: a process costs a small host a
 * few milliseconds of CPU, and a first apply writes several files. A temp file left by a run that
 * was killed (or anything else at that name: a symlink is not followed) is removed first, so the
 * file is created new and takes its mode from the umask: 644 under the apply's umask, a mode
 * without execute or special bits under a umask of its own, set around the write and put back;
 * any other mode takes a chmod. The content goes as one single-quoted word to the shell's
 * printf; content holding a NUL byte, which no shell word can carry, goes through base64.
 */
export function writeTempSteps(tmp: string, content: string, mode: string): string[] {
  const wanted = Number.parseInt(mode, 8);
  const fresh = `{ [ ! -e ${tmp} ] && [ ! -h ${tmp} ] || rm -f -- ${tmp}; }`;
  const data = content.includes('\0') ? `printf '%s' ${quote(Buffer.from(content, 'utf8').toString('base64'))} | base64 -d > ${tmp}` : `printf '%s' ${quote(content)} > ${tmp}`;
  if ((wanted & ~0o666) !== 0) return [fresh, data, `chmod ${quote(mode)} -- ${tmp}`];
  if ((0o666 & ~APPLY_UMASK) === wanted) return [fresh, data];
  return [fresh, `umask ${octal(0o777 & ~wanted)}`, data, `umask ${octal(APPLY_UMASK)}`];
}

/**
 * Commands that replace `path` atomically: the new content is written beside it, with its mode,
 * and renamed over the old file, so a reader never sees a half-written file. The rename is the
 * one process a write of a file whose directory exists costs. `check`, given the temp file's
 * quoted name, is a last step before the rename: when it fails, the old file stays.
 */
export function writeFileCommands(path: string, content: string, mode = '644', check?: (tmp: string) => string): string[] {
  const slash = path.lastIndexOf('/');
  const dir = slash > 0 ? path.slice(0, slash) : '/';
  const tmp = quote(`${path}.lvsprov-tmp`);
  return [ensureDirectoryCommand(dir), replaceViaTemp(tmp, quote(path), [...writeTempSteps(tmp, content, mode), ...(check ? [check(tmp)] : [])])];
}

export function removeFileCommands(path: string): string[] {
  return [`rm -f -- ${quote(path)}`];
}

/**
 * The change that writes a file lvsprov owns whole, where the host's `file` differs from `content`
 * or `mode`, then runs `then` (a reload that reads it); undefined where the file is already so.
 */
export function writeFileChange(path: string, file: FileState, content: string, mode: string, then: readonly string[] = []): Change | undefined {
  if (file.exists && file.content === content && file.mode === mode) return undefined;
  return replaceFileChange(path, file, content, mode, then);
}

/**
 * The change that writes `content` over the host's `file`, for a caller that decided itself that
 * the file is stale (comparing what the file means, not its bytes).
 */
export function replaceFileChange(path: string, file: FileState, content: string, mode: string, then: readonly string[] = []): Change {
  return {
    resource: `file ${path}`,
    summary: `${file.exists ? 'update' : 'create'} ${path}`,
    diff: { kind: 'file', before: file.content, after: content },
    commands: [...writeFileCommands(path, content, mode), ...then],
  };
}

/** The change that deletes a file lvsprov wrote, then runs `then`; the diff shows every line going. */
export function removeFileChange(path: string, file: FileState, then: readonly string[] = []): Change {
  return { resource: `file ${path}`, summary: `remove ${path}`, diff: { kind: 'file', before: file.content, after: '' }, commands: [...removeFileCommands(path), ...then] };
}
