import type { CST } from 'yaml';
import { yamlLibrary } from './yaml-library.js';

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
  // A block scalar's lines are its own by their indentation alone. A plain or quoted string may
  // instead have taken in a line that was meant as a key (`b: 1` then a deeper `<NBSP>c: 2`):
  // its later lines count as text only in a file that reads without errors.
  const clean = [...new Composer().compose(tokens)].every((document) => document.errors.length === 0);
  const spans: Span[] = [];
  for (const token of allTokens(tokens)) {
    if (token.type === 'block-scalar') {
      const start = text.indexOf('\n', token.offset) + 1;
      if (start > 0) spans.push([start, start + token.source.length]);
    } else if (token.type === 'comment') {
      spans.push([token.offset, token.offset + token.source.length]);
    } else if (clean && (token.type === 'scalar' || token.type === 'double-quoted-scalar' || token.type === 'single-quoted-scalar')) {
      // After its first character: a key that starts a string is still the string's start.
      spans.push([token.offset + 1, token.offset + token.source.length]);
    }
  }
  return (index) => spans.some(([start, end]) => index >= start && index < end);
}

type Part = CST.Token | CST.SourceToken | CST.CollectionItem;

/** Every token of the tree, found without recursion (the tree may be deep). */
function* allTokens(tokens: readonly CST.Token[]): Generator<CST.Token | CST.SourceToken> {
  const stack: Part[] = [...tokens];
  while (stack.length > 0) {
    const part = stack.pop()!;
    if (!('type' in part)) {
      stack.push(...part.start, ...(part.sep ?? []));
      if (part.key) stack.push(part.key);
      if (part.value) stack.push(part.value);
      continue;
    }
    yield part;
    if ('start' in part && Array.isArray(part.start)) stack.push(...(part.start as Part[]));
    if ('props' in part) stack.push(...part.props);
    if ('items' in part) stack.push(...part.items);
    if ('value' in part && part.value) stack.push(part.value);
    if ('end' in part && part.end) stack.push(...part.end);
  }
}
