import type { CST } from 'yaml';
import { yamlLibrary } from './yaml-library.js';
import { isClosedQuote } from './yaml-tokens.js';

// Where a file's text is the text of a value rather than YAML structure: the lines of a block
// scalar (`|`, `>`), a string's lines after its first, and comments. There a no-break space after
// `word:` or at a line's start is meant as written, so the checks for such characters as YAML
// separators or indentation (yaml-text.ts) must not fire. Asked only when such a check found a
// character, so a usual file is never parsed twice.

type Span = readonly [start: number, end: number];

/** A test of whether the character at an index is inside a value's text or a comment. */
export function valueTextIn(text: string): (index: number) => boolean {
  const { Composer, Parser } = yamlLibrary();
  const tokens = [...new Parser().parse(text)];
  // A block scalar's lines are its own by their indentation alone, and a closed quoted string's by
  // its quotes. A plain string may instead have taken in a line that was meant as a key (`b: 1`
  // then a deeper `<NBSP>c: 2`): its later lines count as text only in a file that reads without
  // errors.
  // uniqueKeys: the library compares keys pairwise; duplicates are checked elsewhere, in linear time.
  const clean = [...new Composer({ version: '1.2', schema: 'core', uniqueKeys: false }).compose(tokens)].every((document) => document.errors.length === 0);
  const spans: Span[] = [];
  for (const token of allTokens(tokens)) {
    if (token.type === 'block-scalar') {
      const start = text.indexOf('\n', token.offset) + 1;
      if (start > 0) spans.push([start, start + token.source.length]);
    } else if (token.type === 'comment') {
      spans.push([token.offset, token.offset + token.source.length]);
    } else if ((token.type === 'scalar' && clean) || ((token.type === 'double-quoted-scalar' || token.type === 'single-quoted-scalar') && isClosedQuote(token.source))) {
      // After its first character: a key that starts a string is still the string's start.
      spans.push([token.offset + 1, token.offset + token.source.length]);
    }
  }
  // Scalars and comments do not overlap: the one span that may hold an index is the last to start
  // at or before it (a file with many candidates and many strings stays linear-logarithmic).
  spans.sort((a, b) => a[0] - b[0]);
  return (index) => {
    let low = 0;
    let high = spans.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (spans[middle]![0] <= index) low = middle + 1;
      else high = middle;
    }
    const span = spans[low - 1];
    return span !== undefined && index < span[1];
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
