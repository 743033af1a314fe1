import { ConfigError, type ConfigProblem } from '../errors.js';
import { fileLabel, readYamlText } from './yaml-text.js';
import type { TokenProblem } from './yaml-tokens.js';
import { libraryRead } from './yaml-library-read.js';
import { checkTree } from './yaml-tree.js';
import { unresolvedTagProblems } from './yaml-tag-fit.js';
import { locatedFromNode, walkLocated, type ExpandFlow, type Located, type PathSegment } from './yaml-located.js';
import { locateFlow, quickRead } from './yaml-quick-read.js';
import { linePosition, type LinePosition } from './yaml-line-position.js';

// A YAML file kept together with its syntax tree, so that any problem found later - by zod, by
// cross-checks, by variable resolution - can be reported at the exact line and column of the node.
// Every file lvsprov reads (inventory, playbook, role files) comes through here, so the limits on
// size, encoding, nesting, tags and aliases hold for all of them.

export type { PathSegment } from './yaml-located.js';

export class YamlSource {
  private constructor(
    readonly file: string,
    private readonly data: unknown,
    private readonly root: Located | null,
    private readonly linePos: (offset: number) => LinePosition,
    /** For a quickly read file: the parts of a flow collection, read when a problem lies inside it. */
    private readonly expand?: ExpandFlow,
  ) {}

  /** A file, or standard input for `-` (named `<stdin>` in messages). */
  static load(file: string): YamlSource {
    return YamlSource.parse(fileLabel(file), readYamlText(file));
  }

  static parse(file: string, text: string): YamlSource {
    const quick = quickRead(text);
    if (quick) {
      const { lineStarts } = quick;
      // A flow's parts are read once however many problems lie inside it (70,000 ports, each out of range).
      const flows = new Map<number, ReturnType<typeof locateFlow>>();
      const expand = (offset: number): ReturnType<typeof locateFlow> => {
        let parts = flows.get(offset);
        if (!parts) flows.set(offset, (parts = locateFlow(text, offset)));
        return parts;
      };
      return new YamlSource(file, quick.value, quick.root, (offset) => linePosition(lineStarts, offset), expand);
    }
    return YamlSource.parseWithLibrary(file, text);
  }

  /** Any YAML file, with every check; the positions come from the library's document. */
  static parseWithLibrary(file: string, text: string): YamlSource {
    const { lines, tokenProblems, documents } = libraryRead(text);
    const located = (problems: readonly TokenProblem[]): ConfigError =>
      new ConfigError(problems.map(({ offset, message, path }) => ({ file, ...lines.linePos(offset), path: path ?? '', message })));
    if (tokenProblems.length > 0) throw located(tokenProblems);

    const [document, ...more] = documents;
    if (!document) throw located([{ offset: 0, message: 'YAML syntax: no document' }]);
    const issues = [...document.errors, ...document.warnings];
    // The only tags left by now are core ones; one the library cannot resolve does not fit its node.
    const unresolved = issues.filter((error) => error.code === 'TAG_RESOLVE_FAILED').map((error) => ({ start: error.pos[0], end: error.pos[1], tag: error.message.replace('Unresolved tag: ', '') }));
    const syntax: TokenProblem[] = [
      ...issues.filter((error) => error.code !== 'TAG_RESOLVE_FAILED').map((error) => ({ offset: error.pos[0], message: `YAML syntax: ${error.message.split('\n')[0]}` })),
      ...unresolvedTagProblems(document.contents, unresolved),
    ];
    const second = more[0];
    if (second) syntax.push({ offset: second.range[0], message: 'a second YAML document starts here; lvsprov reads one document per file' });
    if (syntax.length > 0) throw located(syntax.sort((a, b) => a.offset - b.offset));

    const treeProblems = checkTree(document.contents, (offset) => lines.linePos(offset).line);
    if (treeProblems.length > 0) throw located(treeProblems);
    // Aliases were bounded by checkTree; the library's own alias heuristic is not needed.
    return new YamlSource(file, document.toJS({ maxAliasCount: -1 }), locatedFromNode(document.contents), lines.linePos);
  }

  /** The plain JavaScript value of the document (null for an empty file). */
  value(): unknown {
    return this.data;
  }

  /**
   * A problem located at the deepest node that exists along `path`. With `atKey`, point at the
   * mapping key rather than its value (used for unknown keys).
   */
  problem(path: readonly PathSegment[], message: string, atKey = false): ConfigProblem {
    const pos = this.linePos(walkLocated(this.root, path, atKey, this.expand).offset);
    return { file: this.file, line: pos.line, col: pos.col, path: path.join('.'), message };
  }

  /** True when the whole of `path` is written in the file (a key with an empty value counts). */
  has(path: readonly PathSegment[]): boolean {
    return walkLocated(this.root, path, false, this.expand).complete;
  }
}
