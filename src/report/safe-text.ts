// Text that came from a host (a file's content, a label, a sysctl value) reaches the operator's
// terminal only through here: a file holding escape sequences must not move the cursor, retitle
// the window or hide lines, and a huge file must not flood the screen.

// Every C0 control (tab included: it can hide what follows it), DEL, the C1 range, and the
// Unicode bidirectional overrides that can make a line read differently from what it holds.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_OR_BACKSLASH = new RegExp(`${UNSAFE.source}|\\\\`, 'g');

const NAMED: Readonly<Record<string, string>> = { '\t': '\\t', '\r': '\\r', '\n': '\\n', '\u001b': '\\e', '\\': '\\\\' };

function escapeOne(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One line with every control character shown as an escape (`\e`, `\r`, `\x07`, `\u202e`). */
export function escapeControls(line: string): string {
  // A backslash is escaped only on a line that needs escaping, so ordinary text reads as it is
  // while `\e` printed by us can never be confused with a literal backslash-e in the file.
  if (!UNSAFE.test(line)) return line;
  return line.replace(UNSAFE_OR_BACKSLASH, escapeOne);
}

export interface DiffLimits {
  /** Lines of a diff shown before it is cut. */
  readonly lines: number;
  /** Characters of one line shown before it is cut. */
  readonly lineLength: number;
}

export const DIFF_LIMITS: DiffLimits = { lines: 200, lineLength: 400 };

/** The diff's lines escaped and cut to the limits, with a note saying how much was left out. */
export function limitLines(lines: readonly string[], limits: DiffLimits = DIFF_LIMITS): string[] {
  const shown = lines.slice(0, limits.lines).map((line) => {
    const safe = escapeControls(line);
    if (safe.length <= limits.lineLength) return safe;
    return `${safe.slice(0, limits.lineLength)}... (${safe.length - limits.lineLength} more characters)`;
  });
  const hidden = lines.length - shown.length;
  if (hidden > 0) {
    const chars = lines.slice(limits.lines).reduce((sum, line) => sum + line.length + 1, 0);
    shown.push(`... ${hidden} more line${hidden === 1 ? '' : 's'} of this diff not shown (${chars} characters)`);
  }
  return shown;
}
