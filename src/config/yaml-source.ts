import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError, type ConfigProblem } from '../errors.js';

// A YAML file kept together with its syntax tree, so that any problem found later - by zod, by
// cross-checks, by variable resolution - can be reported at the exact line and column of the node.

export type PathSegment = string | number;

export class YamlSource {
  private constructor(
    readonly file: string,
    private readonly document: Document,
    private readonly lines: LineCounter,
  ) {}

  static load(file: string): YamlSource {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError([{ file, line: 1, col: 1, path: '', message: `cannot read: ${(error as Error).message}` }]);
    }
    return YamlSource.parse(file, text);
  }

  static parse(file: string, text: string): YamlSource {
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
    const source = new YamlSource(file, document, lines);
    if (document.errors.length > 0) {
      throw new ConfigError(
        document.errors.map((error) => {
          const pos = lines.linePos(error.pos[0]);
          return { file, line: pos.line, col: pos.col, path: '', message: `YAML syntax: ${error.message.split('\n')[0]}` };
        }),
      );
    }
    return source;
  }

  /** The plain JavaScript value of the document (null for an empty file). */
  value(): unknown {
    return this.document.toJS({ maxAliasCount: 100 }) as unknown;
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

  private locate(path: readonly PathSegment[], atKey: boolean): Node | null {
    let node: unknown = this.document.contents;
    let found: Node | null = (node as Node | null) ?? null;
    for (const [index, segment] of path.entries()) {
      const last = index === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) return found;
        if (last && atKey && isScalar(pair.key)) return pair.key;
        node = pair.value ?? pair.key;
        // A key with no value (`vip:`) has no value node; the key is the best place to point at.
        found = (pair.value as Node | null) ?? (pair.key as Node);
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment];
        if (!item) return found;
        node = item;
        found = item as Node;
      } else {
        return found;
      }
    }
    return found;
  }
}
