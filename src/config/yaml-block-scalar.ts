// Block scalars (`|` literal, `>` folded) for the quick reader: every role.yaml describes itself in one,
// and a file the quick reader leaves costs the YAML library's parser and composer (a tenth of a second
// of CPU for a small command). Read by YAML 1.2's rules: the content indentation is the parent's plus
// an explicit indicator, or that of the first non-empty line; chomping strips, clips to one line break
// or keeps every trailing one. What the library refuses or reads by rules this does not repeat - an
// empty scalar, more-indented leading empty lines, lines of spaces only beyond the indentation - gives
// up (null), and the library reads the file.

const SPACE = 32;
const HASH = 35;
const NEWLINE = 10;
const GREATER_THAN = 62;
const PLUS = 43;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;

export interface BlockScalar {
  readonly value: string;
  /** Where the first line after the scalar starts. */
  readonly next: number;
}

interface Header {
  readonly folded: boolean;
  readonly chomping: 'strip' | 'clip' | 'keep';
  /** The explicit indentation indicator, 0 when there is none. */
  readonly indentation: number;
}

/** `|` or `>` at `at`, an indicator of each kind at most, then blanks or a comment to `lineEnd`; null when not that. */
function readHeader(text: string, at: number, lineEnd: number): Header | null {
  let chomping: Header['chomping'] = 'clip';
  let indentation = 0;
  let next = at + 1;
  for (; next < lineEnd; next += 1) {
    const code = text.charCodeAt(next);
    if ((code === PLUS || code === MINUS) && chomping === 'clip') chomping = code === PLUS ? 'keep' : 'strip';
    else if (code > ZERO && code <= NINE && indentation === 0) indentation = code - ZERO;
    else break;
  }
  let blank = next;
  while (text.charCodeAt(blank) === SPACE) blank += 1;
  if (blank < lineEnd && !(text.charCodeAt(blank) === HASH && blank > next)) return null;
  return { folded: text.charCodeAt(at) === GREATER_THAN, chomping, indentation };
}

/**
 * The block scalar whose header is at `at` (on a line ending at `lineEnd`), a value of a collection whose
 * entries start at column `parentIndent`. The start of every line it takes is pushed onto `lineStarts`.
 */
export function readBlockScalar(text: string, at: number, lineEnd: number, parentIndent: number, lineStarts: number[]): BlockScalar | null {
  const header = readHeader(text, at, lineEnd);
  if (header === null || lineEnd >= text.length) return null;
  let indent = header.indentation === 0 ? -1 : parentIndent + header.indentation;
  /** Each line's text past the indentation, or null for an empty line. */
  const lines: Array<string | null> = [];
  let leadingSpaces = 0;
  let start = lineEnd + 1;
  // The end of the text after a final line break is not a line.
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    let first = start;
    while (text.charCodeAt(first) === SPACE) first += 1;
    const spaces = first - start;
    if (first === end) {
      if (indent === -1) leadingSpaces = Math.max(leadingSpaces, spaces);
      else if (spaces > indent) return null;
      lines.push(null);
    } else {
      if (indent === -1) {
        if (spaces <= parentIndent || spaces < leadingSpaces) return null;
        indent = spaces;
      }
      if (spaces < indent) break;
      lines.push(text.slice(start + indent, end));
    }
    if (text.charCodeAt(end) === NEWLINE) lineStarts.push(end + 1);
    start = end + 1;
  }
  let last = lines.length - 1;
  while (last >= 0 && lines[last] === null) last -= 1;
  if (last < 0) return null;
  const body = lines.slice(0, last + 1);
  const content = header.folded ? fold(body) : body.map((line) => line ?? '').join('\n');
  const trailingBreaks = header.chomping === 'strip' ? '' : header.chomping === 'clip' ? '\n' : '\n'.repeat(lines.length - last);
  return { value: content + trailingBreaks, next: start };
}

/**
 * Folding: a line break between two lines of text becomes a space, or as many line breaks as there are
 * empty lines between them; breaks next to a more-indented line (one that starts with a space) stay.
 */
function fold(lines: ReadonlyArray<string | null>): string {
  let out = '';
  let empties = 0;
  let previous: 'none' | 'text' | 'spaced' = 'none';
  for (const line of lines) {
    if (line === null) {
      empties += 1;
      continue;
    }
    const spaced = line.charCodeAt(0) === SPACE;
    if (previous === 'none') out += '\n'.repeat(empties);
    else if (previous === 'text' && !spaced) out += empties === 0 ? ' ' : '\n'.repeat(empties);
    else out += '\n'.repeat(empties + 1);
    out += line;
    previous = spaced ? 'spaced' : 'text';
    empties = 0;
  }
  return out;
}
