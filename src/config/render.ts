import Handlebars from 'handlebars';
import type { Vars } from './host-vars.js';
import { inheritedNames, withoutPrototypes } from './own.js';
import { budgetEach, withBudget } from './render-budget.js';

// Task values are handlebars templates rendered per host. A value that is exactly one expression,
// `{{ director_services }}`, keeps its native type (a list stays a list, a number a number), as
// Ansible users expect; anything else renders to a string. Rendering is strict: a variable that
// nobody set is an error, never an empty string quietly pasted into a command.

export class MissingVariableError extends Error {
  /** Where inside the rendered value the variable was used, for the error's position. */
  path: Array<string | number> = [];

  constructor(readonly variable: string) {
    super(`variable ${variable} is not set`);
    this.name = 'MissingVariableError';
  }
}

/**
 * A list, a map or null printed inside a longer text (`"hook for {{banner}}"`): it has no text of
 * its own (it would read `[variables]`, `a,b` or nothing), so it is refused, as a template file
 * refuses it. Said at the value like a missing variable, hence the same path.
 */
export class UnprintableValueError extends MissingVariableError {
  constructor(
    variable: string,
    readonly kind: string,
  ) {
    super(variable);
    this.message = `variable ${variable} is ${kind}; a text prints only strings, numbers and booleans (a list or a map is a value on its own: "{{ ${variable} }}" alone)`;
    this.name = 'UnprintableValueError';
  }
}

const whole = /^\{\{\s*([A-Za-z_][\w]*(?:\.[\w]+)*)\s*\}\}$/;
const LITERALS = new Set(['true', 'false', 'null', 'undefined']);
const cache = new Map<string, Compiled>();
const engine = Handlebars.create();
budgetEach(engine);

export function lookup(vars: Vars, path: string): unknown {
  const value = heldAt(vars, path);
  if (value === undefined) throw new MissingVariableError(path);
  return value;
}

/** The variable path a template consists of alone (`{{ a.b }}`), whose value it renders as it is. */
export function wholeReference(template: string): string | undefined {
  const name = whole.exec(template)?.[1];
  // {{true}} and its kind are handlebars literals, not names.
  return name === undefined || LITERALS.has(name) ? undefined : name;
}

type Literal = hbs.AST.BooleanLiteral | hbs.AST.NumberLiteral | hbs.AST.StringLiteral;

/** `{{true}}`, `{{5}}`, `{{"x"}}`: a mustache that prints a literal, not a helper or a variable. */
function printedLiteral(node: hbs.AST.Node): Literal | undefined {
  if (node.type !== 'MustacheStatement') return undefined;
  const mustache = node as hbs.AST.MustacheStatement;
  if (mustache.params.length > 0 || mustache.hash !== undefined) return undefined;
  return ['BooleanLiteral', 'NumberLiteral', 'StringLiteral'].includes(mustache.path.type) ? (mustache.path as Literal) : undefined;
}

/**
 * Handlebars reads a mustache that is only a literal as the name of a helper or a field
 * (`{{true}}` looks up "true"), which strict mode reports as a variable nobody set. A user who
 * writes {{true}} or {{5}} means the value: each such mustache becomes the text it stands for.
 */
function literalsAsText(program: hbs.AST.Program): hbs.AST.Program {
  program.body = program.body.map((node) => {
    const literal = printedLiteral(node);
    if (literal !== undefined) return { type: 'ContentStatement', original: String(literal.value), value: String(literal.value), loc: node.loc } as unknown as hbs.AST.ContentStatement;
    if (node.type === 'BlockStatement') {
      const block = node as hbs.AST.BlockStatement;
      if (block.program) literalsAsText(block.program);
      if (block.inverse) literalsAsText(block.inverse);
    }
    return node;
  });
  return program;
}

interface Compiled {
  /** The value of a template that is one literal alone (`{{true}}` is true, `{{5}}` is 5). */
  readonly literal?: Literal['value'];
  /** The variables it prints as they are (`{{a.b}}`), outside blocks that change the scope. */
  readonly printed: readonly string[];
  readonly render: HandlebarsTemplateDelegate;
}

/** The paths of `{{a.b}}` and `{{{a.b}}}` in `program`, and in its {{#if}} and {{#unless}} blocks, which keep the scope. */
function printedPaths(program: hbs.AST.Program, found: string[] = []): string[] {
  for (const node of program.body) {
    if (node.type === 'MustacheStatement') {
      const mustache = node as hbs.AST.MustacheStatement;
      const path = mustache.path as hbs.AST.PathExpression;
      if (mustache.params.length === 0 && mustache.hash === undefined && path.type === 'PathExpression' && !path.data && path.depth === 0) found.push(path.original);
    } else if (node.type === 'BlockStatement') {
      const block = node as hbs.AST.BlockStatement;
      if (!['if', 'unless'].includes((block.path as hbs.AST.PathExpression).original)) continue;
      if (block.program) printedPaths(block.program, found);
      if (block.inverse) printedPaths(block.inverse, found);
    }
  }
  return found;
}

/** What `path` holds in `vars`, or undefined where any part of it is missing (the render says so). */
function heldAt(vars: Vars, path: string): unknown {
  let value: unknown = vars;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function compiledOf(template: string): Compiled {
  let compiled = cache.get(template);
  if (!compiled) {
    const program = Handlebars.parse(template);
    const only = program.body.length === 1 ? printedLiteral(program.body[0]!) : undefined;
    compiled = { ...(only ? { literal: only.value } : {}), printed: printedPaths(program), render: engine.compile(literalsAsText(program), { strict: true, noEscape: true }) };
    cache.set(template, compiled);
  }
  return compiled;
}

export function renderString(template: string, vars: Vars): unknown {
  const single = wholeReference(template);
  if (single) return lookup(vars, single);
  if (!template.includes('{{')) return template;
  const { literal, printed, render: compiled } = compiledOf(template);
  // A value that is one literal alone keeps its type, as one variable alone does.
  if (literal !== undefined) return literal;
  for (const path of printed) {
    const value = heldAt(vars, path);
    if (value === null) throw new UnprintableValueError(path, 'null');
    if (typeof value === 'object') throw new UnprintableValueError(path, Array.isArray(value) ? 'a list' : 'a map');
  }
  try {
    return withBudget(() => compiled(withoutPrototypes(vars), { allowedProtoMethods: inheritedNames, allowedProtoProperties: inheritedNames }));
  } catch (error) {
    throw missingVariableOf(error, template) ?? error;
  }
}

/**
 * The variable a strict render found missing, from handlebars' error, or undefined for any other
 * error. Strict mode checks a name with `in`, which throws on a string or number (a field of an
 * item of a list of numbers), and checks only a path's last name: `{{a.b.c}}` where `a.b` is
 * missing (or is a prototype's, `a.constructor.name`) reads `c` of undefined. Each of these is a
 * variable nobody set, named as far as the template's path goes before the missing part.
 */
export function missingVariableOf(error: unknown, template: string): MissingVariableError | undefined {
  const message = error instanceof Error ? error.message : '';
  const notDefined = /"([^"]+)" not defined in (.*) - /.exec(message);
  if (notDefined) return new MissingVariableError(pathTo(template, notDefined[1]!, notDefined[2] !== 'undefined') ?? notDefined[1]!);
  if (!(error instanceof TypeError)) return undefined;
  const searched = /^Cannot use 'in' operator to search for '([^']+)' in /.exec(message)?.[1];
  if (searched !== undefined) return new MissingVariableError(searched);
  const read = /^Cannot read properties of (?:undefined|null) \(reading '([^']+)'\)/.exec(message)?.[1];
  return read === undefined ? undefined : new MissingVariableError(pathTo(template, read, false) ?? read);
}

/**
 * The first path of the template that reads `name` after other names (`a.b.name`), up to `name`
 * (`a.b.name`, where `a.b` holds no `name`) or up to the name before it (`a.b`, itself missing).
 */
function pathTo(template: string, name: string, including: boolean): string | undefined {
  const pending: unknown[] = [Handlebars.parse(template)];
  while (pending.length > 0) {
    const node = pending.pop();
    if (node === null || typeof node !== 'object') continue;
    const path = node as { type?: unknown; original?: unknown };
    if (path.type === 'PathExpression' && typeof path.original === 'string') {
      const names = path.original.split('.');
      const at = names.indexOf(name, 1);
      if (at > 0) return names.slice(0, including ? at + 1 : at).join('.');
    }
    pending.push(...Object.values(node));
  }
  return undefined;
}

/** Render every string inside a value, keeping its shape. */
export function renderDeep(value: unknown, vars: Vars): unknown {
  const at = <T>(segment: string | number, render: () => T): T => {
    try {
      return render();
    } catch (error) {
      if (error instanceof MissingVariableError) error.path.unshift(segment);
      throw error;
    }
  };
  if (typeof value === 'string') return renderString(value, vars);
  if (Array.isArray(value)) return value.map((item, index) => at(index, () => renderDeep(item, vars)));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, at(key, () => renderDeep(inner, vars))]));
  }
  return value;
}

/** `loop` and `when` take a variable name or a single expression. */
export function evaluate(expression: string, vars: Vars): unknown {
  return expression.includes('{{') ? renderString(expression, vars) : lookup(vars, expression.trim());
}

export function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'string') return value !== '' && value !== 'false' && value !== '0';
  return Boolean(value);
}
