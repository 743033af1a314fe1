import type { Node } from 'yaml';
import { yamlLibrary } from './yaml-library.js';
import type { TokenProblem } from './yaml-tokens.js';

// A core tag the YAML library could not apply (`- !!str { vip: web }`, `port: !!int 80.5`) is
// reported at the tag with the path of the node it stands on and what is wrong: which kind of node
// the tag marks and which kind this one is, or how YAML 1.2 writes a value of the tag's type.

/** YAML 1.2 reads `!!float 80` as 80.0 (its float form has an optional fraction); the library's float tags want a dot or an exponent. */
export const integerFloatTag = {
  tag: 'tag:yaml.org,2002:float',
  default: true,
  test: /^[-+]?[0-9]+$/,
  resolve: (source: string): number => parseFloat(source),
} as const;

const CORE = 'tag:yaml.org,2002:';

const kindOfTag: Readonly<Record<string, string>> = { map: 'a mapping', seq: 'a list', str: 'a string' };

const scalarForms: Readonly<Record<string, string>> = {
  int: 'is not an integer as YAML 1.2 writes one (42, -7, 0o17, 0x1F)',
  float: 'is not a number as YAML 1.2 writes a float (80, 1.5, -2e3, .inf, .nan)',
  bool: 'is not true or false (YAML 1.2 reads yes, no, on and off as strings)',
  null: 'is not null as YAML 1.2 writes it (null, ~ or nothing)',
};

/** A tag the composer could not resolve: where the tag token is, and its full name. */
export interface UnresolvedTag {
  readonly start: number;
  readonly end: number;
  readonly tag: string;
}

/** One problem for each unresolved tag, at the tag, with the path of the node that follows it. */
export function unresolvedTagProblems(root: Node | null, tags: readonly UnresolvedTag[]): TokenProblem[] {
  const nodes = nodesWithPaths(root);
  return tags.map(({ start, end, tag }) => {
    const name = tag.startsWith(CORE) ? tag.slice(CORE.length) : tag;
    const found = nodeAfter(nodes, end, tag);
    return { offset: start, ...(found ? { path: found.path } : {}), message: `tag !!${name} does not fit this value${found ? `: ${why(name, found.node)}` : ''}` };
  });
}

function why(name: string, node: Node): string {
  const { isMap, isScalar, isSeq } = yamlLibrary();
  const kind = isMap(node) ? 'a mapping' : isSeq(node) ? 'a list' : 'a single value';
  const marks = kindOfTag[name];
  if (marks !== undefined && (marks === 'a string' ? !isScalar(node) : marks !== kind)) {
    return `!!${name} marks ${marks}, and this is ${kind}; remove the tag${name === 'str' ? ' (or quote the text if a string was meant)' : ''}`;
  }
  const form = scalarForms[name];
  if (form !== undefined && isScalar(node)) return `${JSON.stringify(shortSource(node))} ${form}`;
  return `!!${name} marks ${scalarForms[name] === undefined ? 'another kind of node' : 'a single value'}, and this is ${kind}; remove the tag`;
}

function shortSource(node: Node): string {
  const source = String((node as { source?: unknown }).source ?? (node as { value?: unknown }).value ?? '');
  return source.length > 40 ? `${source.slice(0, 40)}...` : source;
}

interface Placed {
  readonly start: number;
  readonly path: string;
  readonly node: Node;
}

/** Every key and value node with its path, in order of where it starts. */
function nodesWithPaths(root: Node | null): Placed[] {
  const { isMap, isScalar, isSeq } = yamlLibrary();
  const placed: Placed[] = [];
  // The tree is at most yamlLimits.maxDepth deep (checked on the tokens): a stack keeps it simple anyway.
  const stack: Array<{ node: Node | null; path: string }> = [{ node: root, path: '' }];
  const join = (path: string, segment: string | number): string => (path === '' ? String(segment) : `${path}.${segment}`);
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (!node) continue;
    if (node.range) placed.push({ start: node.range[0], path, node });
    if (isMap(node)) {
      for (const pair of [...node.items].reverse()) {
        const key = pair.key as Node | null;
        const keyPath = join(path, isScalar(key) ? String(key.value) : '?');
        stack.push({ node: pair.value as Node | null, path: keyPath }, { node: key, path: keyPath });
      }
    } else if (isSeq(node)) {
      for (let index = node.items.length - 1; index >= 0; index--) stack.push({ node: node.items[index] as Node | null, path: join(path, index) });
    }
  }
  return placed.sort((a, b) => a.start - b.start);
}

/**
 * The node the tag stands on: the first to start after it. A mapping and its first key start at
 * the same place (`!!int a: 1` tags the key, `b: !!str` then an indented `a: 1` the mapping): the
 * library has put the tag on the one it belongs to.
 */
function nodeAfter(nodes: readonly Placed[], offset: number, tag: string): Placed | undefined {
  let low = 0;
  let high = nodes.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (nodes[middle]!.start < offset) low = middle + 1;
    else high = middle;
  }
  const first = nodes[low];
  for (let index = low; first && nodes[index]?.start === first.start; index++) if (nodes[index]!.node.tag === tag) return nodes[index];
  return first;
}
