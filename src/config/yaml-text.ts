import { isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { findUtf8Fault } from './utf8.js';
import { describeCharacter, INVISIBLE } from './text-safety.js';
import { yamlLimits } from './yaml-limits.js';
import { valueTextIn } from './yaml-scalar-text.js';
import { pathInText } from './yaml-tokens.js';

// From bytes on disk to YAML text, refusing what a YAML parser would otherwise accept silently or
// choke on: files too large to be a cluster description, bytes that are not UTF-8 (a lenient decoder
// would turn them into U+FFFD), and control characters YAML does not allow in a file (NUL and the
// like), which have no business in a host name, a path or a unit file.

const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function problemAt(file: string, line: number, col: number, message: string, path = ''): ConfigProblem {
  return { file, line, col, path, message };
}

/** The name that stands for standard input, as it does for most command-line tools (`-i -`). */
export const STANDARD_INPUT = '-';

/** How a file is named in messages: standard input as `<stdin>`. */
export function fileLabel(file: string): string {
  return file === STANDARD_INPUT ? '<stdin>' : file;
}

// Standard input can be read only once; a command that loads its inventory twice (verify) gets
// the same text the second time.
let standardInputBytes: Uint8Array | null | undefined;

/** The file's bytes, or null when it holds more than maxBytes; neither a huge file nor an endless pipe is read whole. */
function readBounded(file: string): Uint8Array | null {
  if (file !== STANDARD_INPUT) return readBoundedFrom(openSync(file, 'r'), true);
  standardInputBytes ??= readBoundedFrom(0, false);
  return standardInputBytes;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/** readSync that waits for data on a descriptor left non-blocking (standard input set so by another program). */
function readWaiting(fd: number, buffer: Buffer, offset: number): number {
  for (;;) {
    try {
      return readSync(fd, buffer, offset, buffer.length - offset, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, 10);
    }
  }
}

function readBoundedFrom(fd: number, close: boolean): Uint8Array | null {
  try {
    const size = fstatSync(fd).size;
    if (size > yamlLimits.maxBytes) return null;
    // One buffer a byte larger than the file's size: a file that did not grow meanwhile (and is not a
    // pipe, whose size says nothing) is read into it whole, without a copy.
    let buffer = Buffer.allocUnsafe(Math.max(64 * 1024, size + 1));
    let total = 0;
    for (;;) {
      if (total === buffer.length) {
        if (total > yamlLimits.maxBytes) return null;
        const larger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(larger, 0, 0, total);
        buffer = larger;
      }
      const read = readWaiting(fd, buffer, total);
      if (read === 0) break;
      total += read;
      if (total > yamlLimits.maxBytes) return null;
    }
    return buffer.subarray(0, total);
  } finally {
    if (close) closeSync(fd);
  }
}

/** The text of a YAML file, or of standard input for `-`. */
export function readYamlText(file: string): string {
  const label = fileLabel(file);
  let bytes: Uint8Array | null;
  try {
    bytes = readBounded(file);
  } catch (error) {
    throw new ConfigError([problemAt(label, 1, 1, `cannot read: ${(error as Error).message}`)]);
  }
  if (bytes === null) {
    throw new ConfigError([
      problemAt(label, 1, 1, `file is larger than ${megabytes(yamlLimits.maxBytes)}, the most lvsprov reads from one YAML file; split it or check that it is the right file`),
    ]);
  }
  return decodeYamlText(label, bytes);
}

/** UTF-8 bytes to text (a leading byte order mark is dropped), or a ConfigError at the first bad byte. */
export function decodeUtf8Text(file: string, bytes: Uint8Array): string {
  if (!isUtf8(bytes)) throw notUtf8(file, bytes);
  // Buffer's decoder takes a large file many times faster than a TextDecoder; it keeps the mark.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** decodeUtf8Text, and no control character YAML refuses or that could hide text. */
export function decodeYamlText(file: string, bytes: Uint8Array): string {
  if (!isUtf8(bytes)) throw notUtf8(file, bytes, true);
  const text = decodeUtf8Text(file, bytes);
  const control = forbiddenCharacter(text);
  if (control) {
    const { line, col } = positionIn(text, control.index);
    // A lone carriage return breaks the lines the path would be read from; another character lies in its node's text.
    throw new ConfigError([problemAt(file, line, col, control.message, control.lineBreak ? '' : pathInText(text, control.index))]);
  }
  let inValueText: ((index: number) => boolean) | undefined;
  const structural = (index: number): boolean => !(inValueText ??= valueTextIn(text))(index);
  const blank = invisibleIndentation(text, structural) ?? invisibleSeparator(text, structural);
  if (blank) {
    const { line, col } = positionIn(text, blank.index);
    // No path: the character changes the structure a path would be read from (`\u00a0web_port` at the top).
    throw new ConfigError([problemAt(file, line, col, blank.message)]);
  }
  return text;
}

// YAML indents with spaces alone: a no-break space (or another invisible one) at the start of a
// line is read as the first character of the key or value, and `\u00a0\u00a0web_port` then is an
// unknown key that looks like a known one. Only indentation is refused: inside text (a block
// scalar's lines among them) such a character may be meant, and any message that quotes it shows
// it as an escape. `structural` says whether an index is outside such text.
function invisibleIndentation(text: string, structural: (index: number) => boolean): { index: number; message: string } | null {
  if (!INVISIBLE.test(text)) return null;
  const match = firstMatch(text, INDENTED_INVISIBLE, (found) => structural(found.index + found[1]!.length));
  if (!match) return null;
  const character = match[2] ?? '';
  const index = match.index + match[1]!.length;
  return {
    index,
    message: `${describeCharacter(character)}, an invisible character, where YAML reads indentation: YAML indents with plain spaces only, so it would be part of the key or value; replace it with spaces (a copy from a web page or a word processor?)`,
  };
}

const INDENTED_INVISIBLE = new RegExp(`((?:^|\\n)[ \\t]*(?:-[ \\t]+)*)(${INVISIBLE.source})`, 'gu');

// YAML separates a key's colon from its value, and a list's dash from its item, with a plain space
// or tab: `address:<U+00A0>192.0.2.11` (a no-break space typed as Option+Space, or pasted from a
// page) is one plain string, which then shows up as "expected a mapping" or an unknown key
// `address:\u00a0192.0.2.11`. Refused at the character, for a key that starts a line (after its
// indentation and any dashes) or follows a flow mapping's `{` or `,`; not inside a value's text.
function invisibleSeparator(text: string, structural: (index: number) => boolean): { index: number; message: string } | null {
  if (!INVISIBLE.test(text)) return null;
  const keyAt = (found: RegExpExecArray): boolean => structural(found.index + found[1]!.length);
  const match = firstMatch(text, BLOCK_SEPARATOR, keyAt) ?? flowSeparator(text, keyAt);
  if (!match) return null;
  const indicator = match[2] ?? '';
  const character = match[3] ?? '';
  const key = indicator.slice(0, -1);
  const what =
    indicator === '-'
      ? "a list item's `-`: YAML separates the dash from its item with a plain space, so the item would be read as a string starting with `-`"
      : `\`${indicator}\`: YAML separates a key from its value with a plain space, so \`${indicator}\` and its value would be read as one string instead of the key ${key}`;
  return {
    index: match.index + match[1]!.length + indicator.length,
    message: `${describeCharacter(character)}, an invisible character, right after ${what}; replace it with a space (a copy from a web page or a word processor?)`,
  };
}

/** A key after a flow mapping's `{` or `,`, but not one inside a quoted string on its line (`"a, b:<U+00A0>c"`). */
function flowSeparator(text: string, structural: (found: RegExpExecArray) => boolean): RegExpExecArray | null {
  for (const match of text.matchAll(FLOW_SEPARATOR)) {
    if (!structural(match)) continue;
    const prefix = text.slice(text.lastIndexOf('\n', match.index) + 1, match.index);
    const doubles = prefix.replace(/\\./g, '').split('"').length - 1;
    const singles = prefix.split("'").length - 1;
    if (doubles % 2 === 0 && singles % 2 === 0) return match;
  }
  return null;
}

function firstMatch(text: string, pattern: RegExp, structural: (found: RegExpExecArray) => boolean): RegExpExecArray | null {
  for (const match of text.matchAll(pattern)) if (structural(match)) return match;
  return null;
}

const PLAIN_KEY = `(?:[A-Za-z0-9_$/][A-Za-z0-9_.$/-]*|"[^"\\n]*"|'[^'\\n]*')`;
const BLOCK_SEPARATOR = new RegExp(`((?:^|\\n)[ \\t]*(?:-[ \\t]+)*)(${PLAIN_KEY}:|-)(${INVISIBLE.source})`, 'gu');
const FLOW_SEPARATOR = new RegExp(`([{,][ \\t]*)(${PLAIN_KEY}:)(${INVISIBLE.source})`, 'gu');

/** The problem at the first bad byte; in a YAML file, with the path of the node it is in. */
function notUtf8(file: string, bytes: Uint8Array, yaml = false): ConfigError {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return new ConfigError([problemAt(file, 1, 1, 'not valid UTF-8: the file starts with a UTF-16 byte order mark; save it as UTF-8')]);
  }
  const fault = findUtf8Fault(bytes);
  const offset = fault?.offset ?? 0;
  // Everything before the fault decodes, so its last line gives the column in characters.
  const before = new TextDecoder('utf-8').decode(bytes.subarray(0, offset));
  const { line, col } = positionIn(before, before.length);
  // The node is found in the whole file decoded with U+FFFD for each bad byte: the text before the first is as written.
  const path = yaml ? pathInText(new TextDecoder('utf-8').decode(bytes), before.length) : '';
  return new ConfigError([problemAt(file, line, col, `not valid UTF-8: ${fault?.reason ?? 'undecodable bytes'}; save the file as UTF-8`, path)]);
}

// YAML allows tab, LF and CR among the C0 controls, NEL among the C1 ones, and no U+FFFE or U+FFFF.
// A CR is taken only as part of CRLF: alone, parsers and editors disagree on whether it ends a line.
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u0080-\u0084\u0086-\u009F\uFFFE\uFFFF]|\r(?!\n)/u;

const NAMES: Record<number, string> = { 0x00: 'NUL', 0x07: 'BEL', 0x08: 'backspace', 0x0b: 'vertical tab', 0x0c: 'form feed', 0x1b: 'ESC', 0x7f: 'DEL' };

function forbiddenCharacter(text: string): { index: number; message: string; lineBreak?: boolean } | null {
  const match = FORBIDDEN.exec(text);
  if (!match) return null;
  const code = match[0].charCodeAt(0);
  if (code === 0x0d) {
    return { index: match.index, lineBreak: true, message: 'a carriage return that does not end a CRLF line break; save the file with LF or CRLF line endings' };
  }
  const name = NAMES[code];
  const label = `U+${code.toString(16).toUpperCase().padStart(4, '0')}${name ? ` (${name})` : ''}`;
  return {
    index: match.index,
    message: `control character ${label} is not allowed in a YAML file (a binary file, or a stray byte from copy and paste?)`,
  };
}

/** 1-based line and column (in UTF-16 units, as the YAML parser counts them) of `index` in `text`. */
function positionIn(text: string, index: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) {
    line += 1;
    lineStart = at + 1;
  }
  return { line, col: index - lineStart + 1 };
}
