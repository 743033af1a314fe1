import type { CST } from 'yaml';
import { yamlLibrary } from './yaml-library.js';
import { yamlLimits } from './yaml-limits.js';

// Checks on the YAML token tree, before it becomes a document: the parser builds this tree without
// recursion, so nesting depth can be bounded here before the (recursive) composer sees it; and the
// tokens still know where each tag, bracket and quote was written, which is where a person has to
// look when one is wrong or never closed. Each problem also names the path of the node it is at:
// the walk keeps the chain of items each token is in, and reads a key's text only for a problem.
// The same walk finds the node of a byte or character refused before the text is read as YAML.

export interface TokenProblem {
  readonly offset: number;
  readonly message: string;
  /** Keys and indexes to the node, joined with dots, when the check knows them. */
  readonly path?: string;
}

type Item = CST.CollectionItem;

/** What a token stands on: the document's top node, an item's key, or an item's value (a list item's own). */
type Role = 'document' | 'key' | 'value';

interface TokenVisit {
  readonly token: CST.Token;
  readonly depth: number;
  /** The item the token is part of, if any: the last step of the way to it. */
  readonly step: ItemVisit | undefined;
  readonly role: Role;
}

interface ItemVisit {
  readonly item: Item;
  readonly depth: number;
  /** The item holding the collection, the index of the item in it, and whether it is a list. */
  readonly step: ItemVisit | undefined;
  readonly index: number;
  readonly inList: boolean;
}

// What a collection item holds besides tags and its key and value: the indicators and spacing.
const LAYOUT = new Set(['space', 'newline', 'comment', 'comma', 'seq-item-ind', 'map-value-ind', 'explicit-key-ind', 'anchor']);

const CORE_TAGS = ['str', 'int', 'float', 'bool', 'null', 'seq', 'map'];
const ALLOWED_TAGS = new Set(['!', ...CORE_TAGS.flatMap((name) => [`!!${name}`, `!<tag:yaml.org,2002:${name}>`])]);
const TAG_HELP = `lvsprov reads plain data: the only tags allowed are ${CORE_TAGS.map((name) => `!!${name}`).join(', ')}`;

/** Problems in document order; an empty list when the tokens are safe to compose. */
export function checkTokens(tokens: readonly CST.Token[]): TokenProblem[] {
  const problems: TokenProblem[] = [];
  let tooDeep = false;
  walkTokens(tokens, (token, depth, step, role) => {
    const problem = (offset: number, message: string): void => {
      const path = pathOf(step, role);
      problems.push(path === '' ? { offset, message } : { offset, path, message });
    };
    switch (token.type) {
      case 'directive':
        if (!/^%YAML\s+1\.2\s*$/.test(token.source)) {
          problems.push({ offset: token.offset, message: `directive ${token.source.trim()} is not supported: lvsprov reads YAML 1.2 without directives` });
        }
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection':
        if (depth + 1 > yamlLimits.maxDepth) {
          if (!tooDeep) problem(token.offset, `nested more than ${yamlLimits.maxDepth} levels deep; lvsprov reads at most ${yamlLimits.maxDepth} levels of mappings and lists`);
          tooDeep = true;
          return false;
        }
        if (token.type === 'flow-collection') checkClosed(token, problem);
        break;
      case 'double-quoted-scalar':
      case 'single-quoted-scalar':
        if (!isClosedQuote(token.source)) {
          const quote = token.source[0];
          problem(token.offset, `YAML syntax: the ${quote === '"' ? 'double' : 'single'}-quoted string that starts here has no closing ${quote}`);
        }
        break;
      case 'tag':
        if (!ALLOWED_TAGS.has(token.source)) problem(token.offset, `tag ${token.source}${onWhat(step, role)} is not allowed: ${TAG_HELP}`);
        break;
      default:
        break;
    }
    return true;
  });
  // A quote left open swallows the rest of the file, brackets included: those are not separate mistakes.
  const openQuote = problems.some((problem) => problem.message.includes('-quoted string'));
  return problems.filter((problem) => !openQuote || !problem.message.includes('has no matching')).sort((a, b) => a.offset - b.offset);
}

/**
 * The path of the value or key whose text holds `offset` in a file the YAML library's parser has
 * read into `tokens`; '' when no scalar holds it (a comment, spacing) or it is the document's own.
 * For a problem found in the text before it is read as YAML (a byte, a character): its node.
 */
function pathAt(tokens: readonly CST.Token[], offset: number): string {
  let path = '';
  walkTokens(tokens, (token, _depth, step, role) => {
    const end = scalarEnd(token);
    if (end !== undefined && token.offset <= offset && offset < end) path = pathOf(step, role);
    return true;
  });
  return path;
}

/** pathAt for a text not read yet: parsed here (a refused file's, so the parse costs valid input nothing). */
export function pathInText(text: string, offset: number): string {
  const { Parser } = yamlLibrary();
  return pathAt([...new Parser().parse(text)], offset);
}

/** Where a scalar's text ends (a block scalar's lines follow its header); undefined for a token that is not one. */
function scalarEnd(token: CST.Token): number | undefined {
  switch (token.type) {
    case 'scalar':
    case 'double-quoted-scalar':
    case 'single-quoted-scalar':
    case 'alias':
      return token.offset + token.source.length;
    case 'block-scalar': {
      const header = token.props.at(-1) as CST.SourceToken | undefined;
      return (header ? header.offset + header.source.length : token.offset) + token.source.length;
    }
    default:
      return undefined;
  }
}

/**
 * Calls `visit` with each token of the tree in document order (indicators and spacing left out),
 * with its depth, the item it is part of and what it stands on. A collection's items are visited
 * when `visit` returns true for it. Without recursion: the tree may be deeper than the stack.
 */
function walkTokens(tokens: readonly CST.Token[], visit: (token: CST.Token, depth: number, step: ItemVisit | undefined, role: Role) => boolean): void {
  const stack: Array<TokenVisit | ItemVisit> = [];
  // `tokens` and then `last`, pushed last first so that the stack gives them back in document order.
  const push = (depth: number, step: ItemVisit | undefined, role: Role, tokens: ReadonlyArray<CST.Token | null | undefined> = [], last?: CST.Token | null): void => {
    if (last) stack.push({ token: last, depth, step, role });
    for (let index = tokens.length - 1; index >= 0; index--) {
      const token = tokens[index];
      if (token && !LAYOUT.has(token.type)) stack.push({ token, depth, step, role });
    }
  };
  push(0, undefined, 'document', tokens);
  while (stack.length > 0) {
    const next = stack.pop()!;
    if ('item' in next) {
      const { item, depth } = next;
      // Props before a mapping's key (`!foo a: 1`, `{ !foo a: 1 }`, a list's `[!foo a: 1]`) are the key's;
      // before a list item, the item's.
      push(depth, next, 'value', item.sep, item.value);
      push(depth, next, hasKey(next) ? 'key' : 'value', item.start, item.key);
      continue;
    }
    const { token, depth, step, role } = next;
    if (!visit(token, depth, step, role)) continue;
    switch (token.type) {
      case 'document':
        push(depth, undefined, 'value', [token.value, ...(token.end ?? [])]);
        push(depth, undefined, 'document', token.start);
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        const inList = token.type === 'block-seq' || (token.type === 'flow-collection' && token.start.type === 'flow-seq-start');
        for (let index = token.items.length - 1; index >= 0; index--) stack.push({ item: token.items[index]!, depth: depth + 1, step, index, inList });
        break;
      }
      case 'block-scalar':
        push(depth, step, role, token.props);
        break;
      default:
        break;
    }
  }
}

function checkClosed(collection: CST.FlowCollection, problem: (offset: number, message: string) => void): void {
  const isMap = collection.start.type === 'flow-map-start';
  const closer = isMap ? 'flow-map-end' : 'flow-seq-end';
  if (!collection.end.some((token) => token.type === closer)) {
    const [open, close] = isMap ? ['{', '}'] : ['[', ']'];
    problem(collection.start.offset, `YAML syntax: this ${open} has no matching ${close}`);
  }
}

/** Whether an item is a `key: value` entry: every item of a mapping, and a pair in a list (`[a: 1]`). */
function hasKey(visit: ItemVisit): boolean {
  return !visit.inList || visit.item.key !== undefined;
}

/** Where a tag stands, when its path alone does not say: on a key (the path ends with it), or on the whole document. */
function onWhat(step: ItemVisit | undefined, role: Role): string {
  if (role === 'document') return ' on the whole document';
  if (role !== 'key' || !step) return '';
  return step.item.key ? ` on the key ${keyName(step.item.key)}` : ' on an empty key';
}

/**
 * Keys and indexes from the top of the document, joined with dots; '' for the document itself. A
 * pair in a list is a mapping at its index (`a.1.b`); an empty key's path is its mapping's.
 */
function pathOf(step: ItemVisit | undefined, role: Role): string {
  const segments: string[] = [];
  for (let at = step; at; at = at.step) {
    if (hasKey(at) && !(at === step && role === 'key' && !at.item.key)) segments.push(keyName(at.item.key ?? null));
    if (at.inList) segments.push(String(at.index));
  }
  return segments.reverse().join('.');
}

/** A key's name as written (quotes and escapes resolved); `?` for a key that is not a scalar. */
function keyName(key: CST.Token | null): string {
  if (key === null) return '';
  const scalar = yamlLibrary().CST.resolveAsScalar(key, false, () => undefined);
  return scalar ? scalar.value : '?';
}

/** True when a quoted scalar's source ends with its closing quote (escapes and doubled quotes skipped). */
export function isClosedQuote(source: string): boolean {
  const quote = source[0];
  for (let index = 1; index < source.length; index += 1) {
    const char = source[index];
    if (quote === '"' && char === '\\') index += 1;
    else if (char === quote) {
      if (quote === "'" && source[index + 1] === "'") index += 1;
      else return true;
    }
  }
  return false;
}
