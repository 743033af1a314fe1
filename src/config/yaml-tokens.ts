import type { CST } from 'yaml';
import { yamlLimits } from './yaml-limits.js';

// Checks on the YAML token tree, before it becomes a document: the parser builds this tree without
// recursion, so nesting depth can be bounded here before the (recursive) composer sees it; and the
// tokens still know where each tag, bracket and quote was written, which is where a person has to
// look when one is wrong or never closed.

export interface TokenProblem {
  readonly offset: number;
  readonly message: string;
  /** Keys and indexes to the node, joined with dots, when the check knows them. */
  readonly path?: string;
}

type Item = CST.CollectionItem;
type Visit = { readonly token: CST.Token; readonly depth: number } | { readonly item: Item; readonly depth: number };

const CORE_TAGS = ['str', 'int', 'float', 'bool', 'null', 'seq', 'map'];
const ALLOWED_TAGS = new Set(['!', ...CORE_TAGS.flatMap((name) => [`!!${name}`, `!<tag:yaml.org,2002:${name}>`])]);
const TAG_HELP = `lvsprov reads plain data: the only tags allowed are ${CORE_TAGS.map((name) => `!!${name}`).join(', ')}`;

/** Problems in document order; an empty list when the tokens are safe to compose. */
export function checkTokens(tokens: readonly CST.Token[]): TokenProblem[] {
  const problems: TokenProblem[] = [];
  const stack: Visit[] = tokens.map((token) => ({ token, depth: 0 })).reverse();
  let tooDeep = false;
  const push = (depth: number, ...tokens: Array<CST.Token | null | undefined>): void => {
    for (const token of tokens.reverse()) if (token) stack.push({ token, depth });
  };
  while (stack.length > 0) {
    const visit = stack.pop()!;
    if ('item' in visit) {
      const { item, depth } = visit;
      push(depth, ...item.start, item.key, ...(item.sep ?? []), item.value);
      continue;
    }
    const { token, depth } = visit;
    switch (token.type) {
      case 'directive':
        if (!/^%YAML\s+1\.2\s*$/.test(token.source)) {
          problems.push({ offset: token.offset, message: `directive ${token.source.trim()} is not supported: lvsprov reads YAML 1.2 without directives` });
        }
        break;
      case 'document':
        push(depth, ...token.start, token.value, ...(token.end ?? []));
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        if (depth + 1 > yamlLimits.maxDepth) {
          if (!tooDeep) problems.push({ offset: token.offset, message: `nested more than ${yamlLimits.maxDepth} levels deep; lvsprov reads at most ${yamlLimits.maxDepth} levels of mappings and lists` });
          tooDeep = true;
          break;
        }
        if (token.type === 'flow-collection') checkClosed(token, problems);
        for (const item of [...token.items].reverse()) stack.push({ item, depth: depth + 1 });
        break;
      }
      case 'block-scalar':
        push(depth, ...token.props);
        break;
      case 'double-quoted-scalar':
      case 'single-quoted-scalar':
        if (!isClosedQuote(token.source)) {
          const quote = token.source[0];
          problems.push({ offset: token.offset, message: `YAML syntax: the ${quote === '"' ? 'double' : 'single'}-quoted string that starts here has no closing ${quote}` });
        }
        break;
      case 'tag':
        if (!ALLOWED_TAGS.has(token.source)) problems.push({ offset: token.offset, message: `tag ${token.source} is not allowed: ${TAG_HELP}` });
        break;
      default:
        break;
    }
  }
  // A quote left open swallows the rest of the file, brackets included: those are not separate mistakes.
  const openQuote = problems.some((problem) => problem.message.includes('-quoted string'));
  return problems.filter((problem) => !openQuote || !problem.message.includes('has no matching')).sort((a, b) => a.offset - b.offset);
}

function checkClosed(collection: CST.FlowCollection, problems: TokenProblem[]): void {
  const isMap = collection.start.type === 'flow-map-start';
  const closer = isMap ? 'flow-map-end' : 'flow-seq-end';
  if (!collection.end.some((token) => token.type === closer)) {
    const [open, close] = isMap ? ['{', '}'] : ['[', ']'];
    problems.push({ offset: collection.start.offset, message: `YAML syntax: this ${open} has no matching ${close}` });
  }
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
