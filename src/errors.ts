// The few error types the engine and loaders raise. Only the CLI entry turns them into exit codes.

import { INVISIBLE } from './config/text-safety.js';

export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Dotted path to the offending key, e.g. `hosts.rs1.address`; empty for the document itself. */
  readonly path: string;
  readonly message: string;
}

export function formatProblem(problem: ConfigProblem): string {
  const where = `${problem.file}:${problem.line}:${problem.col}`;
  return problem.path ? `${where}: ${visible(shortPath(problem.path))}: ${visible(problem.message)}` : `${where}: ${visible(problem.message)}`;
}

// A key of thousands of characters (a pasted blob, a generated name) would fill the screen in the
// path and again in the message: the path shows the start of such a segment and its length.
const LONG_SEGMENT = /[^.]{81,}/g;

function shortPath(path: string): string {
  return path.replace(LONG_SEGMENT, shortened);
}

/** A name or term from the input as a message shows it: one over 80 characters by its start and length. */
export function shortened(text: string): string {
  return text.length > 80 ? `${text.slice(0, 40)}...(${text.length} characters)` : text;
}

// A problem is one line of output. A key or value from the input may hold a line break, a carriage
// return or a terminal escape sequence: written raw it would forge lines or drive the terminal, so
// such characters are shown as escapes. So are the invisible ones (a no-break space, a zero-width
// space): raw, `unknown key web\u00a0port` would read as a key that looks right.
const CONTROL = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]|${INVISIBLE.source}`, 'gu');
const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function visible(text: string): string {
  return text.replace(CONTROL, (char) => SHORT[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Commander's own messages quote a bad argument whole (`argument 'X' is invalid`, `unknown option
 * 'X'`): each command-line argument that is long or holds a control or invisible character is
 * shown there as any value from the input is, by its start and length and with escapes.
 */
export function withArgumentsShown(text: string, argv: readonly string[]): string {
  let shown = text;
  for (const arg of argv) {
    const safe = visible(shortened(arg));
    if (safe !== arg && arg !== '') shown = shown.split(arg).join(safe);
  }
  return shown;
}

// A message that quotes a value from the input whole (a 2 MB interface name, a pasted blob) would
// be one line of megabytes, in the text and in --json: such a run shows its start and its length.
const LONG_RUN = /\S{201,}/g;

/** Invalid inventory, playbook or role: nothing was contacted. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const shown = problems.map((problem) => {
      const message = problem.message.replace(LONG_RUN, shortened);
      return message === problem.message ? problem : { ...problem, message };
    });
    super(shown.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = shown;
  }
}

/** Invalid use of the command line itself. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A host could not be reached or authenticated, or its host key was refused. */
export class ConnectError extends Error {
  override name = 'ConnectError';
}

/** A connection given up because the run was interrupted while it was being made: the host was not touched. */
export class ConnectInterruptedError extends ConnectError {
  override name = 'ConnectInterruptedError';
}

/** Reading a host's state failed in a way no planner can interpret. */
export class ProbeError extends Error {
  override name = 'ProbeError';
}

/** A change failed on the host; `output` is what its commands printed. */
export class ApplyError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
    this.name = 'ApplyError';
  }
}

/** The host lock: another run held it past --lock-timeout, or this run lost it. */
export class LockError extends Error {
  override name = 'LockError';
}

/**
 * The connection died while a script ran (no answer to keepalives, or closed): whatever the script
 * did after its last output that arrived is unknown. `stdout` is the output that did arrive.
 */
export class ConnectionLostError extends Error {
  constructor(
    message: string,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'ConnectionLostError';
  }
}

/** lvsprov itself stopped a running script (a second interrupt); `stdout` is what arrived before. */
export class ExecAbortedError extends Error {
  constructor(
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super('stopped by the interrupt');
    this.name = 'ExecAbortedError';
  }
}

/** Lab prerequisites or lab state problems. */
export class LabError extends Error {
  override name = 'LabError';
}
