import type { Node } from 'yaml';
import { yamlLibrary } from './yaml-library.js';
import type { TokenProblem } from './yaml-tokens.js';
import { yamlLimits } from './yaml-limits.js';
import { modeNumberProblem, renamedKeyProblem, versionDependentNumberProblem } from './yaml-core-scalars.js';

// Checks on the composed document, each in one pass over its nodes:
// - keys are names (scalars), none is __proto__, and each appears once per mapping - a Set per mapping, so a mapping of
//   70,000 hosts costs 70,000 lookups, not the 2.5 billion comparisons of a pairwise check;
// - every alias has an anchor before it, none refers to a node containing itself, and all of them
//   together expand to a bounded number of nodes (an "alias bomb" of nested aliases would otherwise
//   expand exponentially in everything that walks the value).

// `__proto__` is the one key a JavaScript object cannot hold as data: the YAML library keeps it as an
// own property, but zod and object spreads drop or reinterpret it, so a host, variable or task key of
// that name would vanish without a word. Other inherited names (`constructor`, `toString`) are fine
// keys: every name is looked up as an own property.
const PROTO_KEY = '__proto__ cannot be a name (JavaScript reserves it); choose another';

// A file mode is written as octal digits (`mode: 0644`), which the file task reads as such: its
// number must be written as those digits, whatever its tag.
const numberProblem = (node: Node | null, key: unknown): string | undefined => {
  const scalar = node as { readonly value?: unknown; readonly source?: string; readonly type?: string; readonly tag?: string } | null;
  if (!scalar || scalar.source === undefined) return undefined;
  if (key === 'mode') return modeNumberProblem(scalar.source, scalar.value);
  if (scalar.type !== 'PLAIN' || scalar.tag !== undefined) return undefined;
  return versionDependentNumberProblem(scalar.source, scalar.value);
};

const renamedKey = (key: { readonly value: unknown; readonly source?: string; readonly type?: string | undefined; readonly tag?: string | undefined }): string | undefined =>
  key.type === 'PLAIN' && key.tag === undefined && key.source !== undefined ? renamedKeyProblem(key.source, key.value) : undefined;

interface Anchor {
  open: boolean;
  /** Nodes the anchored node stands for once its own aliases are expanded. */
  size: number;
}

/** The work checkTree did, for a test that proves it linear without a clock. */
export interface TreeCheckWork {
  /** Lookups and insertions of key names, the one step a duplicate check repeats per key. */
  keyOperations: number;
}

export function checkTree(root: Node | null, lineOf: (offset: number) => number, work: TreeCheckWork = { keyOperations: 0 }): TokenProblem[] {
  const { isAlias, isMap, isScalar, isSeq } = yamlLibrary();
  const problems: TokenProblem[] = [];
  const anchors = new Map<string, Anchor>();
  const expansions: Array<{ offset: number; path: string; name: string; added: number }> = [];
  let written = 0;
  let added = 0;
  const at = (node: Node | null | undefined): number => node?.range?.[0] ?? 0;

  // The keys and indexes down to the node being visited, for a problem's path. A problem on a key
  // names the key (`hosts.rs1` for a duplicate rs1), or the mapping when the key has no name.
  const path: Array<string | number> = [];
  const here = (...more: Array<string | number>): string => [...path, ...more].join('.');
  const visit = (node: Node | null | undefined): number => {
    if (!node) return 1;
    if (isAlias(node)) {
      const anchor = anchors.get(node.source);
      if (!anchor) problems.push({ offset: at(node), path: here(), message: `alias *${node.source} has no anchor &${node.source} before it` });
      else if (anchor.open) problems.push({ offset: at(node), path: here(), message: `alias *${node.source} is inside the node &${node.source} it refers to, which would make it endless` });
      else {
        added += anchor.size;
        expansions.push({ offset: at(node), path: here(), name: node.source, added });
        return anchor.size;
      }
      return 1;
    }
    written += 1;
    const anchor: Anchor | undefined = node.anchor ? { open: true, size: 1 } : undefined;
    if (node.anchor && anchor) anchors.set(node.anchor, anchor);
    let size = 1;
    if (isMap(node)) {
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (isAlias(key)) problems.push({ offset: at(key), path: here(), message: `a key cannot be an alias (*${key.source}); write the key out` });
        else if (!isScalar(key)) {
          // `address: {{ vip }}` reads as a mapping whose key is the mapping `{ vip }`.
          const template = isMap(key) && key.flow && node.flow && node.items.length === 1 ? ' (an unquoted {{ ... }} reads as one: put the template in quotes)' : '';
          problems.push({ offset: at(key ?? (pair.value as Node | null)), path: here(), message: `a key must be a plain name, not a mapping or a list${template}` });
        }
        else if (key.value === null || key.value === '') problems.push({ offset: at(key), path: here(), message: 'empty key: write a name before the colon' });
        // Named as written: the name it would become (`10` for `010`) is not in the file.
        else if (renamedKey(key)) problems.push({ offset: at(key), path: here(key.source ?? String(key.value)), message: renamedKey(key) ?? '' });
        else {
          const name = String(key.value);
          const first = seen.get(name);
          work.keyOperations += 1;
          if (first !== undefined) problems.push({ offset: at(key), path: here(name), message: `duplicate key ${name} (first at line ${lineOf(first)}); a mapping holds each key once` });
          else {
            seen.set(name, at(key));
            work.keyOperations += 1;
          }
          if (name === '__proto__') problems.push({ offset: at(key), path: here(name), message: PROTO_KEY });
        }
        // A key's own parts (an alias, a mapping's) are at the mapping: the key has no name.
        size += visit(key);
        path.push(isScalar(key) ? String(key.value) : '?');
        const valueProblem = isScalar(pair.value) ? numberProblem(pair.value as Node, isScalar(key) ? key.value : undefined) : undefined;
        if (valueProblem !== undefined) problems.push({ offset: at(pair.value as Node), path: here(), message: valueProblem });
        size += visit(pair.value as Node | null);
        path.pop();
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        path.push(index);
        const itemProblem = isScalar(item) ? numberProblem(item as Node, undefined) : undefined;
        if (itemProblem !== undefined) problems.push({ offset: at(item as Node), path: here(), message: itemProblem });
        size += visit(item as Node | null);
        path.pop();
      });
    }
    if (anchor) {
      anchor.open = false;
      anchor.size = size;
    }
    return size;
  };

  visit(root);
  // Aliases may at most double a file, plus a fixed allowance for small files that share a block.
  const allowed = 2 * written + yamlLimits.aliasNodeAllowance;
  const bomb = expansions.find((expansion) => written + expansion.added > allowed);
  if (bomb) {
    problems.push({
      offset: bomb.offset,
      path: bomb.path,
      message: `alias *${bomb.name} makes the file expand to more than ${allowed} nodes (it holds ${written}); nested aliases multiply, so write the repeated part out instead`,
    });
  }
  return problems.sort((a, b) => a.offset - b.offset);
}
