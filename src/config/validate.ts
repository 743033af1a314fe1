import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { userInputParse } from './issue-words.js';
import { describeValue, defOf, knownKeys, schemaAt, unwrapSchema } from './schema-words.js';
import { nearestNames, suggestion } from './suggest.js';
import type { PathSegment, YamlSource } from './yaml-source.js';

type Issue = z.core.$ZodIssue;

const segmentsOf = (path: readonly PropertyKey[]): PathSegment[] => path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));

/** A union branch worth reporting on its own: the value had that branch's shape and failed inside it. */
function deeperBranch(issue: Issue & { code: 'invalid_union' }): number {
  return issue.errors.findIndex((branch) => branch.length > 0 && branch.every((inner) => inner.path.length > 0 || inner.code === 'unrecognized_keys'));
}

/**
 * Flatten zod issues into located problems, each pointing at the YAML node that caused it. With the
 * schema that was parsed, unknown keys get the nearest known key and the list of known ones.
 */
export function zodProblems(source: YamlSource, error: { readonly issues: readonly Issue[] }, prefix: readonly PathSegment[] = [], schema?: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  // A misspelt key also leaves the key it was meant to be missing: say it once, at the misspelling.
  const meant = new Set<string>();
  const missing: Array<{ path: string; problem: ConfigProblem }> = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...segmentsOf(issue.path)];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schemaAt(schema, issue.path));
      for (const key of issue.keys) {
        problems.push(source.problem([...path, key], known.length > 0 ? `unknown key ${key}: ${suggestion(key, known)}` : `unknown key ${key}`, true));
        for (const near of nearestNames(key, known, 1)) meant.add([...path, near].join('.'));
      }
    } else if (issue.code === 'invalid_type' && (issue as { input?: unknown }).input === undefined && 'input' in issue) {
      missing.push({ path: path.join('.'), problem: source.problem(path, issue.message) });
    } else if (issue.code === 'invalid_union' && deeperBranch(issue) >= 0) {
      const branch = deeperBranch(issue);
      const union = defOf(unwrapSchema(schemaAt(schema, issue.path)));
      const option = union?.type === 'union' ? (union.options as unknown[])[branch] : undefined;
      problems.push(...zodProblems(source, { issues: issue.errors[branch] ?? [] }, path, option));
    } else if (issue.code === 'invalid_key' || (issue.code === 'custom' && (issue.params as { atKey?: boolean } | undefined)?.atKey)) {
      problems.push(source.problem(path, issue.message, true));
    } else {
      problems.push(source.problem(path, withInput(issue)));
    }
  }
  const kept = [...problems, ...missing.filter((entry) => !meant.has(entry.path)).map((entry) => entry.problem)];
  return kept.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** A schema's own message ("must be an IPv4 address") gains what it got, when that is a plain value. */
function withInput(issue: Issue): string {
  const input = (issue as { input?: unknown }).input;
  const scalar = typeof input === 'string' || typeof input === 'number' || typeof input === 'boolean';
  if ((issue.code === 'custom' || issue.code === 'invalid_format') && scalar && !/\bgot\b/.test(issue.message) && !issue.message.includes(JSON.stringify(input))) {
    return `${issue.message}, got ${describeValue(input)}`;
  }
  return issue.message;
}

/** safeParse for anything a user wrote: messages that say what was expected and what was found. */
export function checkInput<S extends z.ZodType>(schema: S, value: unknown): z.ZodSafeParseResult<z.output<S>> {
  return schema.safeParse(value, userInputParse);
}

/** Parse `value` (found at `prefix` inside `source`) with `schema`, or throw a located ConfigError. */
export function parseWith<S extends z.ZodType>(
  source: YamlSource,
  schema: S,
  value: unknown,
  prefix: readonly PathSegment[] = [],
): z.output<S> {
  const result = checkInput(schema, value);
  if (result.success) return result.data;
  throw new ConfigError(zodProblems(source, result.error, prefix, schema));
}
