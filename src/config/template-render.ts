import Handlebars from 'handlebars';
import type { Vars } from './host-vars.js';
import { RefusedValue, writeValue, type OutputFormat } from './output-formats.js';
import { inheritedNames, withoutPrototypes } from './own.js';
import { MissingVariableError, missingVariableOf } from './render.js';
import { budgetEach, RenderBudgetError, withBudget } from './render-budget.js';
import { controlCharacterIn, describeCharacter } from './text-safety.js';

// Role templates are rendered for the format they declare. Handlebars' own escaping is HTML's and
// is fixed at build time, so instead every printed expression of the template's syntax tree -
// `{{x}}`, `{{{x}}}`, `{{helper x}}` alike - is rewrapped as a call of one helper that passes the
// value through the format's writer (output-formats.ts). No expression can print around it.

const WRITE = 'lvsprov_write';

/** A value the format refused, with where the template printed it. */
export class TemplateValueError extends Error {
  override name = 'TemplateValueError';

  constructor(
    readonly expression: string,
    /** The root variable the expression reads, when it reads one directly (for the inventory line). */
    readonly variable: string | undefined,
    readonly line: number,
    readonly col: number,
    readonly reason: string,
  ) {
    super(`${expression} ${reason}`);
  }
}

/** A template syntax error, with its position. */
export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError';

  constructor(
    readonly line: number,
    readonly col: number,
    message: string,
  ) {
    super(message);
  }
}

type Node = hbs.AST.Node;
type Program = hbs.AST.Program;

const engine = Handlebars.create();
budgetEach(engine);
engine.registerHelper(WRITE, function write(this: unknown, value: unknown, options: Handlebars.HelperOptions) {
  const hash = options.hash as { expression: string; variable: string; helper: number; line: number; col: number };
  const format = (options.data as { lvsprovFormat: OutputFormat }).lvsprovFormat;
  // A helper's result is not a variable the inventory could set: say what found nothing, and where.
  if (value === undefined && hash.helper) throw new TemplateValueError(hash.expression, undefined, hash.line, hash.col, 'finds nothing on this host');
  if (value === undefined) throw new MissingVariableError(hash.expression);
  try {
    return writeValue(value, format);
  } catch (error) {
    if (error instanceof RefusedValue) throw new TemplateValueError(hash.expression, hash.variable || undefined, hash.line, hash.col, error.message);
    throw error;
  }
});

export function parseTemplate(text: string): Program {
  try {
    return Handlebars.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    // The parser gives up at the end of the file; the fix is where the block opened.
    const open = /got 'EOF'/.test(message) ? unclosedBlock(text) : undefined;
    if (open) throw new TemplateSyntaxError(open.line, open.col, `template syntax: this {{${open.opener}${open.name}}} block has no {{/${open.name}}}`);
    const { line, col } = syntaxErrorPosition(error);
    const character = text.split('\n')[line - 1]?.[col - 1];
    const found = character === undefined ? undefined : controlCharacterIn(character);
    // The lexer stops at a NUL, and its words (Unrecognized text) name no character.
    if (found !== undefined && /^Lexical error/.test(message)) throw new TemplateSyntaxError(line, col, `template syntax: the control character ${describeCharacter(found)} cannot stand in a template; save it as text`);
    throw new TemplateSyntaxError(line, col, `template syntax: ${message.split('\n').filter((part) => part.trim() !== '' && !/^-*\^$/.test(part.trim())).join(' ')}`);
  }
}

/**
 * Where handlebars gave up: its own errors (a block closed by another name) carry the position;
 * the parser's and the lexer's leave it in the lexer's last location (the token it could not
 * take, or for the lexer the character after the last one it read). Their messages name only the
 * line.
 */
function syntaxErrorPosition(error: unknown): { line: number; col: number } {
  const own = error as { lineNumber?: unknown; column?: unknown; message?: unknown };
  if (typeof own.lineNumber === 'number' && typeof own.column === 'number') return { line: own.lineNumber, col: own.column + 1 };
  const where = (Handlebars as unknown as { Parser: { lexer: { yylloc?: { first_line: number; first_column: number; last_line: number; last_column: number } } } }).Parser.lexer.yylloc;
  const message = String(own.message ?? '');
  if (where && /^Lexical error/.test(message)) return { line: where.last_line, col: where.last_column + 1 };
  if (where && /^Parse error/.test(message)) return { line: where.first_line, col: where.first_column + 1 };
  return { line: Number(/on line (\d+)/.exec(message)?.[1] ?? 1), col: 1 };
}

/** The last block opened and never closed (`{{#if x}}` without `{{/if}}`), by a scan of its tags. */
function unclosedBlock(text: string): { line: number; col: number; opener: string; name: string } | undefined {
  const open: Array<{ index: number; opener: string; name: string }> = [];
  for (const match of text.matchAll(/\{\{~?\s*([#^/])\s*([A-Za-z_][\w-]*)/g)) {
    if (match[1] === '/') {
      const at = open.map((block) => block.name).lastIndexOf(match[2]!);
      if (at >= 0) open.splice(at);
    } else open.push({ index: match.index, opener: match[1]!, name: match[2]! });
  }
  const last = open.at(-1);
  if (!last) return undefined;
  const before = text.slice(0, last.index).split('\n');
  return { line: before.length, col: (before.at(-1)?.length ?? 0) + 1, opener: last.opener, name: last.name };
}

function literal(value: string | number, loc: hbs.AST.SourceLocation): hbs.AST.Expression {
  return (typeof value === 'number'
    ? { type: 'NumberLiteral', value, original: value, loc }
    : { type: 'StringLiteral', value, original: value, loc }) as unknown as hbs.AST.Expression;
}

/** Rewrap every printed expression; `rootScope` says whether a plain name still means a variable. */
function wrap(program: Program, rootScope: boolean): void {
  for (const node of program.body as Node[]) {
    if (node.type === 'BlockStatement') {
      const block = node as hbs.AST.BlockStatement;
      const keepsScope = ['if', 'unless'].includes((block.path as hbs.AST.PathExpression).original);
      if (block.program) wrap(block.program, rootScope && keepsScope);
      if (block.inverse) wrap(block.inverse, rootScope);
    } else if (node.type === 'MustacheStatement') {
      const mustache = node as hbs.AST.MustacheStatement;
      const path = mustache.path as hbs.AST.PathExpression;
      const inner =
        mustache.params.length > 0 || mustache.hash
          ? ({ type: 'SubExpression', path: mustache.path, params: mustache.params, hash: mustache.hash, loc: mustache.loc } as unknown as hbs.AST.Expression)
          : mustache.path;
      const helper = mustache.params.length > 0 || mustache.hash !== undefined;
      // A literal ({{true}}, {{5}}) has an original that is no string: said as its source.
      const expression = sourceOf(helper ? inner : mustache.path);
      const variable = !helper && path.type === 'PathExpression' ? rootVariable(path, rootScope) : undefined;
      const loc = mustache.loc;
      mustache.path = { type: 'PathExpression', data: false, depth: 0, parts: [WRITE], original: WRITE, loc } as unknown as hbs.AST.PathExpression;
      mustache.params = [inner];
      mustache.hash = {
        type: 'Hash',
        loc,
        pairs: (
          [
            ['expression', expression],
            ['variable', variable ?? ''],
            ['helper', helper ? 1 : 0],
            ['line', loc.start.line],
            ['col', loc.start.column + 1],
          ] as const
        ).map(([key, value]) => ({ type: 'HashPair', key, value: literal(value, loc), loc })),
      } as hbs.AST.Hash;
      mustache.escaped = false;
    }
  }
}

/** An expression as the template wrote it, near enough for a message: `lookup this name`. */
function sourceOf(node: hbs.AST.Expression): string {
  switch (node.type) {
    case 'PathExpression':
      return (node as hbs.AST.PathExpression).original;
    case 'StringLiteral':
      return JSON.stringify((node as hbs.AST.StringLiteral).value);
    case 'SubExpression': {
      const call = node as hbs.AST.SubExpression;
      return [sourceOf(call.path), ...call.params.map((param) => (param.type === 'SubExpression' ? `(${sourceOf(param)})` : sourceOf(param)))].join(' ');
    }
    default:
      return String((node as { original?: unknown }).original ?? node.type);
  }
}

/** The top-level variable a path reads: `x` or `x.y` in the root scope, `@root.x` anywhere. */
function rootVariable(path: hbs.AST.PathExpression, rootScope: boolean): string | undefined {
  if (path.data) return path.parts[0] === 'root' ? path.parts[1] : undefined;
  return rootScope && path.depth === 0 ? path.parts[0] : undefined;
}

const compiledCache = new Map<string, HandlebarsTemplateDelegate>();

/** Render a role template for `format`; throws MissingVariableError or TemplateValueError. */
export function renderTemplateFile(text: string, vars: Vars, format: OutputFormat): string {
  let compiled = compiledCache.get(text);
  if (!compiled) {
    const program = parseTemplate(text);
    wrap(program, true);
    compiled = engine.compile(program, { strict: true, knownHelpers: { [WRITE]: true }, knownHelpersOnly: false });
    compiledCache.set(text, compiled);
  }
  try {
    return withBudget(() => compiled(withoutPrototypes(vars), { data: { lvsprovFormat: format }, allowedProtoMethods: inheritedNames, allowedProtoProperties: inheritedNames }));
  } catch (error) {
    if (error instanceof RenderBudgetError) throw new TemplateValueError('{{#each}}', undefined, error.line, error.col, error.message.replace(/^\{\{#each\}\} /, ''));
    throw missingVariableOf(error, text) ?? error;
  }
}
