import type { CST } from 'yaml';
import { libraryRead, type LibraryRead } from './yaml-library-read.js';
import { quickTextSpans } from './yaml-quick-read.js';
import { isClosedQuote, type TokenProblem } from './yaml-tokens.js';

// Where a file's text is the text of a value rather than YAML structure: the lines of a block
// scalar (`|`, `>`), a string's lines after its first, and comments. There a no-break space after
// `word:` or at a line's start is meant as written, so the checks for such characters as YAML
// separators or indentation (yaml-text.ts) must not fire. Asked only when such a check found a
// character; the library parse it then makes is handed to the reading, so no file is parsed twice.

/** A test of whether the character at an index is inside a value's text or a comment. */
export function valueTextIn(text: string): (index: number) => boolean {
  // A file in the quick reader's part of YAML gets its answer in one pass, without the library's
  // parse (seconds for a large file); any other is parsed once, and the parse kept for its reading.
  return inSpans(quickTextSpans(text) ?? librarySpans(text));
}

/** Value text and comments as [start, end) pairs, flat, from the library's tokens. */
function librarySpans(text: string): number[] {
  const { tokens, tokenProblems, documents } = libraryRead(text, true);
  // A block scalar's lines are its own by their indentation alone, and a closed quoted string's by
  // its quotes. A plain string may instead have taken in a line that was meant as a key (`b: 1`
  // then a deeper `<NBSP>c: 2`): its later lines count as text only when no syntax error lies
  // within it, so an error elsewhere in the file is reported as itself.
  const errors = errorRanges(tokenProblems, documents);
  const spans: Array<readonly [number, number]> = [];
  for (const token of allTokens(tokens)) {
    if (token.type === 'block-scalar') {
      const start = text.indexOf('\n', token.offset) + 1;
      if (start > 0) spans.push([start, start + token.source.length]);
    } else if (token.type === 'comment') {
      spans.push([token.offset, token.offset + token.source.length]);
    } else if (
      (token.type === 'scalar' && !errors(token.offset, token.offset + token.source.length)) ||
      ((token.type === 'double-quoted-scalar' || token.type === 'single-quoted-scalar') && isClosedQuote(token.source))
    ) {
      // After its first character: a key that starts a string is still the string's start.
      spans.push([token.offset + 1, token.offset + token.source.length]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  return spans.flat();
}

/** A test of whether any syntax error's range meets [start, end]. */
function errorRanges(tokenProblems: readonly TokenProblem[], documents: LibraryRead['documents']): (start: number, end: number) => boolean {
  const ranges: Array<readonly [number, number]> = tokenProblems.map(({ offset }) => [offset, offset]);
  for (const document of documents) {
    for (const error of document.errors) if (error.code !== 'TAG_RESOLVE_FAILED') ranges.push([error.pos[0], error.pos[1]]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  // The furthest end among the ranges that start at or before each: one search per question.
  const reach: number[] = [];
  for (const [, end] of ranges) reach.push(Math.max(end, reach.at(-1) ?? -1));
  return (start, end) => {
    const before = lastAtOrBefore(ranges.length, (index) => ranges[index]![0], end);
    return before >= 0 && reach[before]! >= start;
  };
}

/** The index of the last of `count` ascending keys at or before `value`, or -1. */
function lastAtOrBefore(count: number, key: (index: number) => number, value: number): number {
  let low = 0;
  let high = count;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (key(middle) <= value) low = middle + 1;
    else high = middle;
  }
  return low - 1;
}

/** Whether an index lies in one of `spans`, sorted [start, end) pairs that do not overlap. */
function inSpans(spans: readonly number[]): (index: number) => boolean {
  return (index) => {
    const pair = lastAtOrBefore(spans.length / 2, (at) => spans[at * 2]!, index);
    return pair >= 0 && index < spans[pair * 2 + 1]!;
  };
}

type Part = CST.Token | CST.SourceToken | CST.CollectionItem;

/** Every token of the tree, found without recursion (the tree may be deep) or spreading (a mapping may have 100,000 items). */
function* allTokens(tokens: readonly CST.Token[]): Generator<CST.Token | CST.SourceToken> {
  const stack: Part[] = [];
  const add = (parts: readonly Part[] | undefined): void => {
    for (const part of parts ?? []) stack.push(part);
  };
  add(tokens);
  while (stack.length > 0) {
    const part = stack.pop()!;
    if (!('type' in part)) {
      add(part.start);
      add(part.sep);
      if (part.key) stack.push(part.key);
      if (part.value) stack.push(part.value);
      continue;
    }
    yield part;
    if ('start' in part && Array.isArray(part.start)) add(part.start as Part[]);
    if ('props' in part) add(part.props);
    if ('items' in part) add(part.items);
    if ('value' in part && part.value) stack.push(part.value);
    if ('end' in part && part.end) add(part.end);
  }
}
