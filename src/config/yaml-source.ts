import { Composer, isMap, isPair, isScalar, isSeq, LineCounter, Parser, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { readYamlText } from './yaml-text.js';
import { checkTokens, type TokenProblem } from './yaml-tokens.js';
import { checkTree } from './yaml-tree.js';

// A YAML file kept together with its syntax tree, so that any problem found later - by zod, by
// cross-checks, by variable resolution - can be reported at the exact line and column of the node.
// Every file lvsprov reads (inventory, playbook, role files) comes through here, so the limits on
// size, encoding, nesting, tags and aliases hold for all of them.

export type PathSegment = string | number;

function isEmptyNode(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1]);
}

export class YamlSource {
  /** Each mapping's pairs by key, built when a problem is first located in it. */
  private readonly keyIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

  private constructor(
    readonly file: string,
    private readonly document: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  static load(file: string): YamlSource {
    return YamlSource.parse(file, readYamlText(file));
  }

  static parse(file: string, text: string): YamlSource {
    const lines = new LineCounter();
    const located = (problems: readonly TokenProblem[]): ConfigError =>
      new ConfigError(problems.map(({ offset, message, path }) => ({ file, ...lines.linePos(offset), path: path ?? '', message })));
    const tokens = [...new Parser(lines.addNewLine).parse(text)];
    const tokenProblems = checkTokens(tokens);
    if (tokenProblems.length > 0) throw located(tokenProblems);

    const composer = new Composer({ version: '1.2', schema: 'core', uniqueKeys: false, prettyErrors: false });
    const [document, ...more] = composer.compose(tokens, true, text.length);
    if (!document) throw located([{ offset: 0, message: 'YAML syntax: no document' }]);
    const syntax = [...document.errors, ...document.warnings].map((error) => ({
      offset: error.pos[0],
      // The only tags left by now are core ones; one the library cannot resolve sits on the wrong kind of node.
      message: error.code === 'TAG_RESOLVE_FAILED' ? `${error.message.replace('Unresolved tag: tag:yaml.org,2002:', 'tag !!')} does not fit this value` : `YAML syntax: ${error.message.split('\n')[0]}`,
    }));
    const second = more[0];
    if (second) syntax.push({ offset: second.range[0], message: 'a second YAML document starts here; lvsprov reads one document per file' });
    if (syntax.length > 0) throw located(syntax.sort((a, b) => a.offset - b.offset));

    const treeProblems = checkTree(document.contents, (offset) => lines.linePos(offset).line);
    if (treeProblems.length > 0) throw located(treeProblems);
    return new YamlSource(file, document, lines);
  }

  /** The plain JavaScript value of the document (null for an empty file). */
  value(): unknown {
    // Aliases were bounded when the file was read; the library's own alias heuristic is not needed.
    return this.document.toJS({ maxAliasCount: -1 }) as unknown;
  }

  /**
   * A problem located at the deepest node that exists along `path`. With `atKey`, point at the
   * mapping key rather than its value (used for unknown keys).
   */
  problem(path: readonly PathSegment[], message: string, atKey = false): ConfigProblem {
    const node = this.locate(path, atKey);
    const offset = node?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line, col: pos.col, path: path.join('.'), message };
  }

  /** True when the whole of `path` is written in the file (a key with an empty value counts). */
  has(path: readonly PathSegment[]): boolean {
    return this.walk(path, false).complete;
  }

  private locate(path: readonly PathSegment[], atKey: boolean): Node | null {
    return this.walk(path, atKey).found;
  }

  /** The deepest node along `path`, and whether every segment of it was found. */
  private walk(path: readonly PathSegment[], atKey: boolean): { found: Node | null; complete: boolean } {
    let node: unknown = this.document.contents;
    let found: Node | null = (node as Node | null) ?? null;
    for (const [index, segment] of path.entries()) {
      const last = index === path.length - 1;
      if (isMap(node)) {
        const pair = this.pairsOf(node).get(String(segment));
        if (!pair) return { found, complete: false };
        if (last && atKey && isScalar(pair.key)) return { found: pair.key, complete: true };
        node = pair.value ?? pair.key;
        // A key with no value (`vip:`) has no value node, or an empty one at the end of the line:
        // the key is the place to point at.
        found = isEmptyNode(pair.value) ? (pair.key as Node) : (pair.value as Node);
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment];
        if (!item) return { found, complete: false };
        node = item;
        found = item as Node;
      } else {
        return { found, complete: false };
      }
    }
    return { found, complete: true };
  }

  private pairsOf(map: YAMLMap): Map<string, Pair> {
    let pairs = this.keyIndex.get(map);
    if (!pairs) {
      pairs = new Map();
      for (const item of map.items) if (isPair(item) && isScalar(item.key)) pairs.set(String(item.key.value), item);
      this.keyIndex.set(map, pairs);
    }
    return pairs;
  }
}
