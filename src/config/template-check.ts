import type { OutputFormat } from './output-formats.js';
import { htmlLayoutProblems } from './html-layout.js';
import { shellEnvLayoutProblems } from './shell-env-layout.js';
import { suggestion } from './suggest.js';
import { describeType, type VariableType } from './variable-types.js';

// What a role's templates and task values may read, checked when the role loads rather than per
// host: every name must be a variable the role declares or one lvsprov derives, every field of a
// typed variable must exist, and only the block helpers each, if, unless and with (and lookup) are
// there. A misspelt or undeclared name is an error of the role at the place that reads it.

export interface TemplateProblem {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

/** The type a scope's names are looked up in; undefined where nothing is known (no checks). */
type Scope = VariableType | undefined;

/** The block parameters one block names, with what each holds. */
type BlockParams = ReadonlyMap<string, Scope>;

export interface Vocabulary {
  /**
   * The root scope: the role's variables, the derived ones and, in a looped task, item and
   * loop_index; undefined for a playbook's own tasks, which may read any variable of the inventory.
   */
  readonly root: VariableType | undefined;
  /** Says how to fix an unknown top-level name, e.g. "declare it under variables in roles/x/role.yaml". */
  readonly unknownHint: (name: string, known: readonly string[]) => string;
}

/** A playbook's own tasks, or a value checked only for where it stands: any name may be read. */
export const ANY_VARIABLE: Vocabulary = { root: undefined, unknownHint: () => '' };

const BLOCKS = new Set(['each', 'if', 'unless', 'with']);
const INLINE_HELPERS = new Set(['lookup']);
const EACH_DATA = new Set(['index', 'key', 'first', 'last']);

function fieldsOf(kind: Scope): Readonly<Record<string, VariableType>> | undefined {
  return kind?.type === 'object' ? kind.fields : undefined;
}

/** Follow `parts` from `scope`; report the first part that does not exist. */
function follow(scope: Scope, parts: readonly string[], vocabulary: Vocabulary, isRoot: boolean, base = ''): { kind: Scope; problem?: string } {
  let kind = scope;
  // `base` names the scope in messages, where a helper's argument stands for it (lookup x "name").
  const named = (index: number): string => [base, ...parts.slice(0, index)].filter(Boolean).join('.');
  for (const [index, part] of parts.entries()) {
    if (kind === undefined) return { kind: undefined };
    if (kind.type === 'list') {
      kind = part === 'length' ? { type: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER } : /^\d+$/.test(part) ? kind.items : undefined;
      if (kind === undefined) return { kind, problem: `${named(index)} is a list; it has no field ${part}` };
      continue;
    }
    const fields = fieldsOf(kind);
    if (fields === undefined) return { kind: undefined, problem: index > 0 || base !== '' ? `${named(index)} is not an object; it has no field ${part}` : undefined };
    if (!Object.hasOwn(fields, part)) {
      const known = Object.keys(fields);
      if (index === 0 && isRoot) return { kind: undefined, problem: `variable ${part} is not declared: ${vocabulary.unknownHint(part, known)}` };
      return { kind: undefined, problem: `${named(index) || 'the item'} has no field ${part}${suggestion(part, known, ': ')}` };
    }
    kind = fields[part];
  }
  return { kind };
}

/** The type at `parts` from `root`: undefined where nothing is known, null where a name does not exist. */
export function typeAt(root: VariableType, parts: readonly string[]): VariableType | undefined | null {
  const result = follow(root, parts, { root, unknownHint: () => '' }, true);
  return result.problem ? null : result.kind;
}

export function checkTemplate(program: hbs.AST.Program, vocabulary: Vocabulary, format?: OutputFormat): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const at = (node: hbs.AST.Node, message: string): void => {
    problems.push({ line: node.loc.start.line, col: node.loc.start.column + 1, message });
  };
  // scopes[0] is the root; `../x` reads one scope up. `params` holds the block parameters in
  // sight (`{{#each xs as |x i|}}`), innermost last: a plain path whose head is one reads it, as
  // handlebars does, wherever the context has moved since.
  let params: readonly BlockParams[] = [];
  let eachDepth = 0;
  const resolve = (path: hbs.AST.PathExpression, scopes: readonly Scope[]): Scope => {
    const param = path.depth === 0 && !path.data && !/^(this|\.)(\/|\.|$)/.test(path.original) ? [...params].reverse().find((frame) => frame.has(path.parts[0] ?? '')) : undefined;
    if (param !== undefined) {
      const head = path.parts[0]!;
      const result = follow(param.get(head), path.parts.slice(1), vocabulary, false, head);
      if (result.problem) at(path, result.problem);
      return result.kind;
    }
    if (path.data) {
      const head = path.parts[0] ?? '';
      if (head !== 'root') {
        // Handlebars gives @index, @key, @first and @last inside each, and nothing else: any other
        // name, or one of these outside an each, is undefined on every host.
        if (!EACH_DATA.has(head)) at(path, `@${head} is not a template data variable: there are @root, and @index, @key, @first and @last inside {{#each}}`);
        else if (eachDepth === 0) at(path, `@${head} is given only inside {{#each}}`);
        return undefined;
      }
      const result = follow(vocabulary.root, path.parts.slice(1), vocabulary, true);
      if (result.problem) at(path, result.problem);
      return result.kind;
    }
    const index = scopes.length - 1 - path.depth;
    if (index < 0) {
      at(path, `${path.original} climbs above the template's top: ${scopes.length === 1 ? 'no ../ is needed there' : `it is ${scopes.length - 1} {{#each}}/{{#with}} deep there`}`);
      return undefined;
    }
    const scope = scopes[index];
    if (path.parts.length === 0) return scope;
    // Inside {{#each}} or {{#with}} a plain name is a field of the item: an item of a known type
    // that has no fields (a string of a list of strings) has none to read, on any host.
    if (index > 0 && scope !== undefined && scope.type !== 'object' && scope.type !== 'list') {
      at(path, `${path.original} reads a field of the block's item, which is ${describeType(scope)} and has none: write {{this}} for the item, or @root.${path.parts.join('.')} for a variable`);
      return undefined;
    }
    const result = follow(scope, path.parts, vocabulary, index === 0);
    if (result.problem) at(path, result.problem);
    return result.kind;
  };
  const expression = (node: hbs.AST.Expression, scopes: readonly Scope[]): Scope => {
    if (node.type === 'PathExpression') return resolve(node as hbs.AST.PathExpression, scopes);
    if (node.type === 'SubExpression') {
      const call = node as hbs.AST.SubExpression;
      const kinds = call.params.map((param) => expression(param, scopes));
      call.hash?.pairs.forEach((pair) => expression(pair.value, scopes));
      const name = (call.path as hbs.AST.PathExpression).original;
      if (!INLINE_HELPERS.has(name)) at(call, `helper ${name} is not available in templates (only lookup, and the blocks each, if, unless, with)`);
      else if (call.params.length !== 2) at(call, `lookup takes two values, what to look in and the name or index to read (lookup vips "web"), got ${call.params.length}`);
      // `lookup x "name"` reads x.name: a literal name is checked as a path would be (a name
      // read from a variable can only be known per host).
      const key = call.params[1];
      if (name === 'lookup' && (key?.type === 'StringLiteral' || key?.type === 'NumberLiteral')) {
        const target = call.params[0];
        const base = target?.type === 'PathExpression' ? (target as hbs.AST.PathExpression).original : '';
        const result = follow(kinds[0], [String((key as hbs.AST.StringLiteral | hbs.AST.NumberLiteral).value)], vocabulary, kinds[0] === vocabulary.root, kinds[0] === vocabulary.root ? '' : base);
        if (result.problem) at(key, result.problem);
        return result.kind;
      }
    }
    return undefined;
  };
  const visit = (program: hbs.AST.Program, scopes: readonly Scope[]): void => {
    const body = program.body as hbs.AST.Node[];
    body.forEach((node, index) => {
      switch (node.type) {
        case 'MustacheStatement': {
          const mustache = node as hbs.AST.MustacheStatement;
          const helper = mustache.params.length > 0 || mustache.hash !== undefined;
          if (mustache.path.type === 'UndefinedLiteral' || mustache.path.type === 'NullLiteral') at(node, `{{${String((mustache.path as { original?: unknown }).original)}}} prints no value`);
          if (helper) expression({ ...mustache, type: 'SubExpression' } as unknown as hbs.AST.SubExpression, scopes);
          else expression(mustache.path, scopes);
          break;
        }
        case 'BlockStatement': {
          const block = node as hbs.AST.BlockStatement;
          const name = (block.path as hbs.AST.PathExpression).original;
          if (!BLOCKS.has(name)) {
            at(block, `block helper ${name} is not available in templates (only each, if, unless, with)`);
            break;
          }
          // Each of them reads exactly one value; handlebars throws at render time otherwise.
          if (block.params.length !== 1) at(block, `{{#${name}}} takes exactly one value, got ${block.params.length}`);
          const argument = block.params[0];
          const kind = argument ? expression(argument, scopes) : undefined;
          // each over a number or a string renders nothing at all, on every host, without a word.
          if (name === 'each' && argument && kind !== undefined && kind.type !== 'list' && kind.type !== 'object') {
            at(argument, `each must name a list; ${argument.type === 'PathExpression' ? (argument as hbs.AST.PathExpression).original : 'the value'} is ${describeType(kind)}`);
          }
          const inner = name === 'each' ? (kind?.type === 'list' ? kind.items : undefined) : name === 'with' ? kind : scopes[scopes.length - 1];
          const blockScopes = name === 'if' || name === 'unless' ? scopes : [...scopes, inner];
          const outer = params;
          // each gives |item index| (the index of a list is an integer), with gives |value|.
          const [itemName, indexName] = block.program.blockParams ?? [];
          if (itemName !== undefined && (name === 'each' || name === 'with')) {
            const frame = new Map<string, Scope>([[itemName, inner]]);
            if (indexName !== undefined && name === 'each') frame.set(indexName, kind?.type === 'list' ? { type: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER } : undefined);
            params = [...outer, frame];
          }
          if (name === 'each') eachDepth += 1;
          visit(block.program, blockScopes);
          if (name === 'each') eachDepth -= 1;
          params = outer;
          if (block.inverse) visit(block.inverse, scopes);
          break;
        }
        case 'PartialStatement':
        case 'PartialBlockStatement':
        case 'DecoratorBlock':
        case 'Decorator':
          at(node, 'partials and decorators are not available in templates');
          break;
        default:
          break;
      }
    });
  };
  visit(program, [vocabulary.root]);
  if (format === 'shell-env') problems.push(...shellEnvLayoutProblems(program));
  if (format === 'html') problems.push(...htmlLayoutProblems(program));
  return problems.sort((a, b) => a.line - b.line || a.col - b.col);
}
