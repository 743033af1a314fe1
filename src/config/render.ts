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

const whole = /^\{\{\s*([A-Za-z_][\w]*(?:\.[\w]+)*)\s*\}\}$/;
const LITERALS = new Set(['true', 'false', 'null', 'undefined']);
const cache = new Map<string, HandlebarsTemplateDelegate>();
const engine = Handlebars.create();
budgetEach(engine);

export function lookup(vars: Vars, path: string): unknown {
  let value: unknown = vars;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) throw new MissingVariableError(path);
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined) throw new MissingVariableError(path);
  return value;
}

/** The variable path a template consists of alone (`{{ a.b }}`), whose value it renders as it is. */
export function wholeReference(template: string): string | undefined {
  const name = whole.exec(template)?.[1];
  // {{true}} and its kind are handlebars literals, not names.
  return name === undefined || LITERALS.has(name) ? undefined : name;
}

export function renderString(template: string, vars: Vars): unknown {
  const single = wholeReference(template);
  if (single) return lookup(vars, single);
  if (!template.includes('{{')) return template;
  let compiled = cache.get(template);
  if (!compiled) {
    compiled = engine.compile(template, { strict: true, noEscape: true });
    cache.set(template, compiled);
  }
  try {
    return withBudget(() => compiled(withoutPrototypes(vars), { allowedProtoMethods: inheritedNames, allowedProtoProperties: inheritedNames }));
  } catch (error) {
    // Strict mode reads a name with `in`, which throws on a string or number (a field of an item of
    // a list of numbers): the name is missing there as much as one not defined.
    const match = /"([^"]+)" not defined/.exec((error as Error).message) ?? (error instanceof TypeError ? /^Cannot use 'in' operator to search for '([^']+)' in /.exec(error.message) : null);
    if (match?.[1]) throw new MissingVariableError(match[1]);
    throw error;
  }
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
