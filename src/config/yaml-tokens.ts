import type { CST } from 'yaml';
import { yamlLibrary } from './yaml-library.js';
import { yamlLimits } from './yaml-limits.js';

// Checks on the YAML token tree, before it becomes a document: the parser builds this tree without
// recursion, so nesting depth can be bounded here before the (recursive) composer sees it; and the
// tokens still know where each tag, bracket and quote was written, which is where a person has to
// look when one is wrong or never closed. Each problem also names the path of the node it is at,
// which the walk keeps as links to the keys' tokens: a key's text is read only for a problem.

export interface TokenProblem {
  readonly offset: number;
  readonly message: string;
  /** Keys and indexes to the node, joined with dots, when the check knows them. */
  readonly path?: string;
}

type Item = CST.CollectionItem;

/** One step of the way to a node: an index, or a key's token (null for an empty key). */
interface Step {
  readonly up: Step | undefined;
  readonly segment: number | CST.Token | null;
}

/** What a token's props (a tag) stand on: the document's top node, a key, or a value or list item. */
type Role = 'document' | 'key' | 'value';

interface TokenVisit {
  readonly token: CST.Token;
  readonly depth: number;
  readonly step: Step | undefined;
  readonly role: Role;
}

interface ItemVisit {
  readonly item: Item;
  readonly depth: number;
  /** The collection's own step, the index of the item in it, and whether it is a list. */
  readonly step: Step | undefined;
  readonly index: number;
  readonly inList: boolean;
}

const CORE_TAGS = ['str', 'int', 'float', 'bool', 'null', 'seq', 'map'];
const ALLOWED_TAGS = new Set(['!', ...CORE_TAGS.flatMap((name) => [`!!${name}`, `!<tag:yaml.org,2002:${name}>`])]);
const TAG_HELP = `lvsprov reads plain data: the only tags allowed are ${CORE_TAGS.map((name) => `!!${name}`).join(', ')}`;

/** Problems in document order; an empty list when the tokens are safe to compose. */
export function checkTokens(tokens: readonly CST.Token[]): TokenProblem[] {
  const problems: TokenProblem[] = [];
  const stack: Array<TokenVisit | ItemVisit> = tokens.map((token) => ({ token, depth: 0, step: undefined, role: 'document' as const })).reverse();
  let tooDeep = false;
  const push = (depth: number, step: Step | undefined, role: Role, ...tokens: Array<CST.Token | null | undefined>): void => {
    for (const token of tokens.reverse()) if (token) stack.push({ token, depth, step, role });
  };
  const problem = (offset: number, step: Step | undefined, message: string): void => {
    const path = pathOf(step);
    problems.push(path === '' ? { offset, message } : { offset, path, message });
  };
  while (stack.length > 0) {
    const visit = stack.pop()!;
    if ('item' in visit) {
      const { item, depth, step, index, inList } = visit;
      // A list item that is a `key: value` pair (`[a: 1]`) is a mapping at its index; a mapping's
      // entry is its key. Props before a key (`!foo a: 1`) are the key's, before an item the item's.
      const entry = inList ? { up: step, segment: index } : step;
      const keyStep = item.key !== undefined || !inList ? { up: entry, segment: item.key ?? null } : undefined;
      const valueStep = keyStep ?? entry;
      // Pushed last part first: the stack gives them back in document order.
      push(depth, valueStep, 'value', ...(item.sep ?? []), item.value);
      push(depth, keyStep ?? valueStep, keyStep ? 'key' : 'value', ...item.start, item.key);
      continue;
    }
    const { token, depth, step, role } = visit;
    switch (token.type) {
      case 'directive':
        if (!/^%YAML\s+1\.2\s*$/.test(token.source)) {
          problems.push({ offset: token.offset, message: `directive ${token.source.trim()} is not supported: lvsprov reads YAML 1.2 without directives` });
        }
        break;
      case 'document':
        push(depth, undefined, 'value', token.value, ...(token.end ?? []));
        push(depth, undefined, 'document', ...token.start);
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        if (depth + 1 > yamlLimits.maxDepth) {
          if (!tooDeep) problem(token.offset, step, `nested more than ${yamlLimits.maxDepth} levels deep; lvsprov reads at most ${yamlLimits.maxDepth} levels of mappings and lists`);
          tooDeep = true;
          break;
        }
        if (token.type === 'flow-collection') checkClosed(token, step, problem);
        const inList = token.type === 'block-seq' || (token.type === 'flow-collection' && token.start.type === 'flow-seq-start');
        for (let index = token.items.length - 1; index >= 0; index--) stack.push({ item: token.items[index]!, depth: depth + 1, step, index, inList });
        break;
      }
      case 'block-scalar':
        push(depth, step, role, ...token.props);
        break;
      case 'double-quoted-scalar':
      case 'single-quoted-scalar':
        if (!isClosedQuote(token.source)) {
          const quote = token.source[0];
          problem(token.offset, step, `YAML syntax: the ${quote === '"' ? 'double' : 'single'}-quoted string that starts here has no closing ${quote}`);
        }
        break;
      case 'tag':
        if (!ALLOWED_TAGS.has(token.source)) problem(token.offset, step, `tag ${token.source}${onWhat(step, role)} is not allowed: ${TAG_HELP}`);
        break;
      default:
        break;
    }
  }
  // A quote left open swallows the rest of the file, brackets included: those are not separate mistakes.
  const openQuote = problems.some((problem) => problem.message.includes('-quoted string'));
  return problems.filter((problem) => !openQuote || !problem.message.includes('has no matching')).sort((a, b) => a.offset - b.offset);
}

function checkClosed(collection: CST.FlowCollection, step: Step | undefined, problem: (offset: number, step: Step | undefined, message: string) => void): void {
  const isMap = collection.start.type === 'flow-map-start';
  const closer = isMap ? 'flow-map-end' : 'flow-seq-end';
  if (!collection.end.some((token) => token.type === closer)) {
    const [open, close] = isMap ? ['{', '}'] : ['[', ']'];
    problem(collection.start.offset, step, `YAML syntax: this ${open} has no matching ${close}`);
  }
}

/** Where a tag stands, when its path alone does not say: on a key (the path ends with it), or on the whole document. */
function onWhat(step: Step | undefined, role: Role): string {
  if (role === 'document') return ' on the whole document';
  if (role !== 'key' || step === undefined || typeof step.segment === 'number') return '';
  return step.segment === null ? ' on an empty key' : ` on the key ${keyName(step.segment)}`;
}

/** Keys and indexes from the top of the document, joined with dots; '' for the document itself. An empty key's is its mapping's. */
function pathOf(step: Step | undefined): string {
  const segments: string[] = [];
  for (let at = step?.segment === null ? step.up : step; at; at = at.up) segments.push(typeof at.segment === 'number' ? String(at.segment) : keyName(at.segment));
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
