import type { CST, Document, LineCounter } from 'yaml';
import { yamlLibrary } from './yaml-library.js';
import { integerFloatTag } from './yaml-tag-fit.js';
import { checkTokens, type TokenProblem } from './yaml-tokens.js';

// The YAML library's tokens and documents for a text. Two readers need them for one file: the
// no-break-space check (yaml-scalar-text.ts), which asks where a value's text lies, and the full
// reading (yaml-source.ts) that follows it. The library's parse of a large file takes seconds, so
// the second reader takes what the first made instead of parsing again; the copy is kept for that
// one handover and dropped then, so a large file's tokens do not stay in memory.

export interface LibraryRead {
  readonly tokens: readonly CST.Token[];
  readonly lines: LineCounter;
  /** Problems in the tokens; when there are any, nothing was composed (the composer recurses). */
  readonly tokenProblems: readonly TokenProblem[];
  readonly documents: readonly Document.Parsed[];
}

let kept: { readonly text: string; readonly read: LibraryRead } | undefined;

/** The library's reading of `text`; `keep` leaves it for the next call with the same text. */
export function libraryRead(text: string, keep = false): LibraryRead {
  const previous = kept;
  kept = undefined;
  if (previous?.text === text) return previous.read;
  const { Composer, LineCounter, Parser } = yamlLibrary();
  const lines = new LineCounter();
  const tokens = [...new Parser(lines.addNewLine).parse(text)];
  const tokenProblems = checkTokens(tokens);
  // uniqueKeys: the library compares keys pairwise; duplicates are checked elsewhere, in linear time.
  const composer = new Composer({ version: '1.2', schema: 'core', uniqueKeys: false, prettyErrors: false, customTags: (tags) => [...tags, integerFloatTag] });
  const documents = tokenProblems.length > 0 ? [] : [...composer.compose(tokens, true, text.length)];
  const read = { tokens, lines, tokenProblems, documents };
  if (keep) kept = { text, read };
  return read;
}
