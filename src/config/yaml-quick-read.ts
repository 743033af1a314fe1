import type { Located, LocatedMap, LocatedSeq } from './yaml-located.js';
import { yamlLimits } from './yaml-limits.js';
import { renamedKeyProblem, resolvePlain, versionDependentNumberProblem } from './yaml-core-scalars.js';
import { readBlockScalar } from './yaml-block-scalar.js';

// The YAML library builds a token for every space and colon and a node object for every value:
// for a 5 MB inventory of 75,000 hosts that is seconds of CPU and half a gigabyte. Cluster files are
// written in a small, regular part of YAML: block mappings and lists, one-line flow collections,
// plain and simple quoted scalars, block scalars (yaml-block-scalar.ts), comments. This reads that
// part directly, in one pass over the lines, into the value and the position of every node. Whatever
// lies outside it - anchors, aliases, tags, multi-line plain or quoted scalars or flows, escapes,
// directives, tabs, duplicate or odd keys, anything it is unsure of - makes it give up, and the
// library reads the file with all its checks. It never reports a problem itself: a file it accepts
// is one the library reads to the same value and positions (test/unit/yaml-quick-read.test.ts
// compares the two).
//
// A one-line flow collection (`host1: { address: 198.18.0.1, vars: { note: a } }`) is read for its
// value only; its position is kept as -1 - offset, and its parts are read again by `locateFlow` when
// a problem has to be located inside it. Most files have no problem: the positions of 75,000 hosts
// would be half a million objects made for nothing.

/** Thrown to give up; caught once per file. */
const outside = new Error('outside the quick subset');
const giveUp = (): never => {
  throw outside;
};

const UNSAFE_TEXT = /[\t\r\u0000-\u0008\u000B-\u001F\u007F-\u009F\uFEFF\uFFFE\uFFFF]/;
const MAX_IMPLICIT_KEY = 1024;
const SPACE = 32;
const HASH = 35;
const DASH = 45;
const COLON = 58;
const COMMA = 44;
const DOUBLE_QUOTE = 34;
const SINGLE_QUOTE = 39;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const PIPE = 124;
const GREATER_THAN = 62;

/** A table of the ASCII characters of `chars`, looked up by character code. */
function asciiSet(chars: string): Uint8Array {
  const table = new Uint8Array(128);
  for (const char of chars) table[char.charCodeAt(0)] = 1;
  return table;
}
const inSet = (table: Uint8Array, code: number): boolean => code < 128 && table[code] === 1;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_';
// A plain key: a name of letters, digits and the punctuation of hosts, paths and sysctl keys.
const KEY_START = asciiSet(ALNUM);
const KEY_PART = asciiSet(`${ALNUM}./=+~^$()<>@-`);
// Characters that may not start a plain scalar here, and those that end one inside a flow collection.
const NOT_PLAIN_START = asciiSet('&*!|>%@`?:,[]{}#\'"');
const FLOW_STOP = asciiSet(',[]{}');

export interface QuickRead {
  readonly value: unknown;
  readonly root: Located | null;
  /** Offset of the start of every line, as the library's LineCounter keeps them. */
  readonly lineStarts: number[];
}

/** The file's value and positions, or null when it leaves the subset (the library then reads it). */
export function quickRead(text: string): QuickRead | null {
  if (UNSAFE_TEXT.test(text)) return null;
  try {
    return new QuickReader(text, false).read();
  } catch (error) {
    if (error === outside) return null;
    throw error;
  }
}

/**
 * Where a text in the quick subset holds a value's text or a comment, as sorted [start, end) pairs,
 * flat; a scalar's first character is left out (a key that starts a string is still structure).
 * Null when the text leaves the subset. For the no-break-space check (yaml-scalar-text.ts).
 */
export function quickTextSpans(text: string): number[] | null {
  if (UNSAFE_TEXT.test(text)) return null;
  const spans: number[] = [];
  try {
    new QuickReader(text, false, spans).read();
    return spans;
  } catch (error) {
    if (error === outside) return null;
    throw error;
  }
}

/** The parts of the flow collection at `offset` of a text quickRead accepted (a position it kept as -1 - offset). */
export function locateFlow(text: string, offset: number): LocatedMap | LocatedSeq {
  const reader = new QuickReader(text, true);
  return reader.flowParts(offset);
}

// Each method reading a node returns its value and leaves its position in `located` and, for
// a node inside a line, the offset just after it in `after`: no object per node besides the value.
class QuickReader {
  readonly lineStarts: number[] = [0];
  // The current line, the next one that holds more than blanks or a comment: where it starts, its
  // indentation and its end; once the text is read, `done`, with no end (NaN compares false).
  private lineStart = 0;
  private lineIndent = -1;
  private end = Number.NaN;
  private done = false;
  /** Where the line after the current one starts. */
  private next = 0;
  private located: Located | null = null;
  private after = 0;

  constructor(
    private readonly text: string,
    /** Whether flow collections get the positions of their parts (else -1 - offset). */
    private readonly partsOfFlows: boolean,
    /** When given, gets every value's text and comment as a [start, end) pair (quickTextSpans). */
    private readonly spans: number[] | null = null,
  ) {}

  private textSpan(start: number, end: number): void {
    if (end > start) this.spans?.push(start, end);
  }

  read(): QuickRead {
    this.advance();
    if (this.done) giveUp();
    if (this.lineIndent === 0 && this.text.startsWith('---', this.lineStart)) {
      if (!this.restIsBlank(this.lineStart + 3)) giveUp();
      this.advance();
    }
    if (this.done) giveUp();
    const at = this.lineStart + this.lineIndent;
    let value: unknown;
    const first = this.text.charCodeAt(at);
    if (first === OPEN_BRACE || first === OPEN_BRACKET) {
      value = this.flow(at, 1);
      this.endOfLine(this.after);
      this.advance();
    } else {
      value = this.block(this.lineIndent, at, 1);
    }
    if (!this.done) giveUp();
    return { value, root: this.located, lineStarts: this.lineStarts };
  }

  flowParts(offset: number): LocatedMap | LocatedSeq {
    const end = this.text.indexOf('\n', offset);
    this.end = end === -1 ? this.text.length : end;
    this.flow(offset, 1);
    return this.located as LocatedMap | LocatedSeq;
  }

  /** To the next line that holds more than blanks or a comment, noting where every line starts. */
  private advance(): void {
    const text = this.text;
    for (let start = this.next; start <= text.length; ) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      else this.lineStarts.push(end + 1);
      let first = start;
      while (text.charCodeAt(first) === SPACE) first += 1;
      if (first < end && text.charCodeAt(first) !== HASH) {
        this.lineStart = start;
        this.lineIndent = first - start;
        this.end = end;
        this.next = end + 1;
        return;
      }
      start = end + 1;
    }
    this.done = true;
    this.lineIndent = -1;
    this.end = Number.NaN;
  }

  private isDash(at: number): boolean {
    return this.text.charCodeAt(at) === DASH && (at + 1 === this.end || this.text.charCodeAt(at + 1) === SPACE);
  }

  /** `key:` ending the line or followed by a blank, just after `keyEnd`. */
  private isColon(keyEnd: number): boolean {
    return this.text.charCodeAt(keyEnd) === COLON && (keyEnd + 1 === this.end || this.text.charCodeAt(keyEnd + 1) === SPACE);
  }

  /** A block mapping or list whose first entry starts at `at`, further entries at column `indent`. */
  private block(indent: number, at: number, depth: number): unknown {
    if (depth > yamlLimits.maxDepth || this.text.startsWith('---', at) || this.text.startsWith('...', at)) giveUp();
    return this.isDash(at) ? this.list(indent, at, depth) : this.mapping(indent, at, depth);
  }

  /** Where the next entry of the block at `indent` starts, or -1 when the block ends there. */
  private nextAt(indent: number): number {
    if (this.done) return -1;
    const lineIndent = this.lineIndent;
    if (lineIndent < indent) return -1;
    if (lineIndent > indent) giveUp();
    return this.lineStart + indent;
  }

  /** After a value that ends its line: a deeper line would continue it, which is left to the library. */
  private nextLine(indent: number): void {
    this.advance();
    if (!this.done && this.lineIndent > indent) giveUp();
  }

  private mapping(indent: number, first: number, depth: number): Record<string, unknown> {
    const value: Record<string, unknown> = {};
    const entries: LocatedMap['entries'] = [];
    for (let at = first; at !== -1; at = this.nextAt(indent)) {
      const name = this.key(at);
      // YAML ends an implicit key within 1024 characters of its start: a longer one is the
      // library's syntax error to report.
      if (name === null || !this.isColon(this.after) || this.after - at > MAX_IMPLICIT_KEY) giveUp();
      const valueAt = this.skipSpaces(this.after + 1);
      if (valueAt === this.end || this.text.charCodeAt(valueAt) === HASH) {
        this.textSpan(valueAt, this.end);
        this.advance();
        value[name!] = this.childBlock(indent, depth);
      } else {
        value[name!] = this.inline(valueAt, indent, depth);
        this.nextLine(indent);
      }
      entries.push(name, at, this.located);
    }
    // A key written twice overwrote the first: fewer keys than entries (the library says where).
    // Counted once at the end: a lookup per key would cost more in a mapping of 75,000 hosts.
    if (Object.keys(value).length !== entries.length / 3) giveUp();
    this.located = { offset: first, entries };
    return value;
  }

  /** The value of a key with nothing after its colon: a deeper block, a list at its column, or nothing. */
  private childBlock(indent: number, depth: number): unknown {
    const lineIndent = this.lineIndent;
    const at = this.lineStart + lineIndent;
    if (lineIndent > indent || (lineIndent === indent && this.isDash(at))) return this.block(lineIndent, at, depth + 1);
    this.located = null;
    return null;
  }

  private list(indent: number, first: number, depth: number): unknown[] {
    const value: unknown[] = [];
    const items: Array<Located | null> = [];
    for (let at = first; at !== -1 && this.isDash(at); at = this.nextAt(indent)) {
      const itemAt = this.skipSpaces(at + 1);
      if (itemAt === this.end || this.text.charCodeAt(itemAt) === HASH || this.isDash(itemAt)) giveUp();
      if (this.key(itemAt) !== null && this.isColon(this.after)) {
        value.push(this.mapping(itemAt - this.lineStart, itemAt, depth + 1));
      } else {
        value.push(this.inline(itemAt, indent, depth));
        this.nextLine(indent);
      }
      items.push(this.located);
    }
    this.located = { offset: first, items };
    return value;
  }

  /** A plain or quoted key at `at` (its end in `after`), or null when none is there. */
  private key(at: number): string | null {
    const text = this.text;
    const first = text.charCodeAt(at);
    let name: string;
    if (first === DOUBLE_QUOTE || first === SINGLE_QUOTE) {
      name = this.quoted(at);
    } else {
      if (!inSet(KEY_START, first)) return null;
      let stop = at + 1;
      while (inSet(KEY_PART, text.charCodeAt(stop))) stop += 1;
      const source = text.slice(at, stop);
      const resolved = resolvePlain(source);
      // A key read as a number or boolean written otherwise (010, True) is refused by the library's reading.
      if (renamedKeyProblem(source, resolved) !== undefined) giveUp();
      name = resolved === null ? '' : String(resolved);
      this.after = stop;
      this.textSpan(at + 1, stop);
    }
    // Empty and __proto__ keys are refused by the library's reading, with their position.
    if (name === '' || name === '__proto__') giveUp();
    return name;
  }

  /**
   * A value on the rest of the line: a flow collection, a quoted or a plain scalar, or a block scalar
   * whose lines follow, inside a collection whose entries start at column `indent`.
   */
  private inline(at: number, indent: number, depth: number): unknown {
    const text = this.text;
    const char = text.charCodeAt(at);
    if (char === PIPE || char === GREATER_THAN) {
      const scalar = readBlockScalar(text, at, this.end, indent, this.lineStarts) ?? giveUp();
      // The header's indicators and comment, then the lines of text.
      this.textSpan(at + 1, scalar.next);
      this.next = scalar.next;
      this.located = at;
      return scalar.value;
    }
    if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      const value = this.flow(at, depth + 1);
      this.endOfLine(this.after);
      return value;
    }
    if (char === DOUBLE_QUOTE || char === SINGLE_QUOTE) {
      const value = this.quoted(at);
      this.endOfLine(this.after);
      this.located = at;
      return value;
    }
    if (inSet(NOT_PLAIN_START, char) || this.isDash(at)) giveUp();
    let stop = at;
    while (stop < this.end && !(text.charCodeAt(stop) === HASH && text.charCodeAt(stop - 1) === SPACE)) stop += 1;
    const source = text.slice(at, trimBlanks(text, at, stop));
    this.textSpan(at + 1, this.end);
    // Brackets and braces inside a plain scalar are text in block context (`route VIP {{item}} to the LAN`).
    if (/: |:$/.test(source)) giveUp();
    this.located = at;
    return this.plainValue(source);
  }

  /**
   * A plain value as the core schema reads it; a number YAML 1.1 reads otherwise, or one not in
   * plain decimal (hexadecimal: a `mode` must not be), goes to the library's checks.
   */
  private plainValue(source: string): unknown {
    const value = resolvePlain(source);
    if (typeof value === 'number' && (versionDependentNumberProblem(source, value) !== undefined || !/^-?[0-9]+(?:\.[0-9]+)?$/.test(source))) giveUp();
    return value;
  }

  /** A flow collection that opens at `at` and closes on the same line. */
  private flow(at: number, depth: number): unknown {
    if (depth > yamlLimits.maxDepth) giveUp();
    const text = this.text;
    const isMap = text.charCodeAt(at) === OPEN_BRACE;
    const close = isMap ? CLOSE_BRACE : CLOSE_BRACKET;
    const map: Record<string, unknown> = isMap ? {} : (null as never);
    const list: unknown[] = isMap ? (null as never) : [];
    const parts: Array<string | number | Located | null> | null = this.partsOfFlows ? [] : null;
    let next = this.skipSpaces(at + 1);
    if (text.charCodeAt(next) !== close) {
      for (;;) {
        if (isMap) {
          const name = this.key(next);
          const follows = text.charCodeAt(this.after + 1);
          if (name === null || text.charCodeAt(this.after) !== COLON || !(follows === SPACE || follows === COMMA || follows === CLOSE_BRACE)) giveUp();
          // A key written twice would overwrite the first (the library says where).
          if (Object.hasOwn(map, name!)) giveUp();
          const valueAt = this.skipSpaces(this.after + 1);
          const valueChar = text.charCodeAt(valueAt);
          if (valueChar === COMMA || valueChar === CLOSE_BRACE) {
            map[name!] = null;
            this.located = null;
            this.after = valueAt;
          } else {
            map[name!] = this.flowValue(valueAt, depth);
          }
          parts?.push(name, next, this.located);
        } else {
          list.push(this.flowValue(next, depth));
          parts?.push(this.located);
        }
        next = this.skipSpaces(this.after);
        const here = text.charCodeAt(next);
        if (here === close) break;
        if (here !== COMMA) giveUp();
        next = this.skipSpaces(next + 1);
        const then = text.charCodeAt(next);
        if (then === close || then === COMMA) giveUp();
      }
    }
    this.after = next + 1;
    if (parts === null) this.located = -1 - at;
    else this.located = isMap ? { offset: at, entries: parts } : { offset: at, items: parts as Array<Located | null> };
    return isMap ? map : list;
  }

  private flowValue(at: number, depth: number): unknown {
    const text = this.text;
    const char = text.charCodeAt(at);
    if (char === OPEN_BRACE || char === OPEN_BRACKET) return this.flow(at, depth + 1);
    if (char === DOUBLE_QUOTE || char === SINGLE_QUOTE) {
      const value = this.quoted(at);
      this.located = at;
      return value;
    }
    if (at >= this.end || inSet(NOT_PLAIN_START, char)) giveUp();
    if (char === DASH) {
      const next = text.charCodeAt(at + 1);
      if (Number.isNaN(next) || next === SPACE || next === COMMA || next === CLOSE_BRACKET || next === CLOSE_BRACE) giveUp();
    }
    let stop = at;
    for (; stop < this.end; stop += 1) {
      const here = text.charCodeAt(stop);
      if (inSet(FLOW_STOP, here)) break;
      if (here === COLON) {
        const next = text.charCodeAt(stop + 1);
        if (next === SPACE || inSet(FLOW_STOP, next)) break;
      }
      if (here === HASH && text.charCodeAt(stop - 1) === SPACE) giveUp();
    }
    const stopChar = text.charCodeAt(stop);
    if (stop >= this.end || stopChar === OPEN_BRACKET || stopChar === OPEN_BRACE || stopChar === COLON) giveUp();
    this.after = stop;
    this.located = at;
    this.textSpan(at + 1, stop);
    return this.plainValue(text.slice(at, trimBlanks(text, at, stop)));
  }

  /** A one-line quoted scalar without escapes (the library reads the others); its end in `after`. */
  private quoted(at: number): string {
    const text = this.text;
    const quote = text.charCodeAt(at);
    const quoteChar = quote === DOUBLE_QUOTE ? '"' : "'";
    let value = '';
    for (let from = at + 1; ; ) {
      const close = text.indexOf(quoteChar, from);
      if (close === -1 || close >= this.end) giveUp();
      const part = text.slice(from, close);
      if (quote === DOUBLE_QUOTE && part.includes('\\')) giveUp();
      value += part;
      if (quote === SINGLE_QUOTE && text.charCodeAt(close + 1) === SINGLE_QUOTE) {
        value += "'";
        from = close + 2;
        continue;
      }
      this.after = close + 1;
      this.textSpan(at + 1, close + 1);
      return value;
    }
  }

  private skipSpaces(at: number): number {
    while (this.text.charCodeAt(at) === SPACE) at += 1;
    return at;
  }

  /** After a value: only blanks, or a comment after a blank, up to the end of the line. */
  private endOfLine(at: number): void {
    if (!this.restIsBlank(at)) giveUp();
  }

  private restIsBlank(at: number): boolean {
    const next = this.skipSpaces(at);
    if (next >= this.end) return true;
    if (this.text.charCodeAt(next) !== HASH || next === at) return false;
    this.textSpan(next, this.end);
    return true;
  }
}

/**
 * Where a plain scalar ending before `stop` ends once its trailing spaces go (a file with tabs is
 * the library's). Only spaces: String.prototype.trimEnd would also take a no-break space or
 * another Unicode space, which YAML keeps as part of the value.
 */
function trimBlanks(text: string, at: number, stop: number): number {
  let end = stop;
  while (end > at && text.charCodeAt(end - 1) === SPACE) end -= 1;
  return end;
}
