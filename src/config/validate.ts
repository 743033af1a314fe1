import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { userInputParse } from './issue-words.js';
import { describeValue, defOf, knownKeys, schemaAt, unwrapSchema } from './schema-words.js';
import { nearestNames, suggestion } from './suggest.js';
import { invisibleNote } from './text-safety.js';
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
  const located: Array<{ path: string; problem: ConfigProblem }> = [];
  const add = (path: readonly PathSegment[], message: string, atKey = false): void => {
    located.push({ path: path.join('.'), problem: source.problem(path, message, atKey) });
  };
  // A misspelt key also leaves the key it was meant to be missing: say it once, at the misspelling.
  const meant = new Map<string, readonly PathSegment[]>();
  for (const issue of error.issues) {
    const path = [...prefix, ...segmentsOf(issue.path)];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schemaAt(schema, issue.path));
      for (const key of issue.keys) {
        add([...path, key], unknownKeyMessage(key, known), true);
        for (const near of nearestNames(key, known, 1)) meant.set([...path, near].join('.'), [...path, near]);
      }
    } else if (issue.code === 'invalid_union' && deeperBranch(issue) >= 0) {
      const branch = deeperBranch(issue);
      const union = defOf(unwrapSchema(schemaAt(schema, issue.path)));
      const option = union?.type === 'union' ? (union.options as unknown[])[branch] : undefined;
      for (const problem of zodProblems(source, { issues: issue.errors[branch] ?? [] }, path, option)) located.push({ path: problem.path, problem });
    } else if (issue.code === 'invalid_key' || (issue.code === 'custom' && (issue.params as { atKey?: boolean } | undefined)?.atKey)) {
      add(path, issue.message, true);
    } else {
      add(path, withInput(issue));
    }
  }
  // Two checks of one value can word the same problem (a number beyond 2^53 fails both .int()'s
  // safe range and the schema's own): it is said once.
  const said = new Set<string>();
  const kept = located.filter((entry) => {
    const intended = meant.get(entry.path);
    const key = `${entry.path}\n${entry.problem.message}`;
    if (said.has(key)) return false;
    said.add(key);
    return intended === undefined || source.has(intended);
  });
  return kept.map((entry) => entry.problem).sort((a, b) => a.line - b.line || a.col - b.col);
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  // YAML 1.1 merge keys are ordinary keys in YAML 1.2.
  const merge = key === '<<' ? ' (YAML 1.2 has no merge keys: write the keys out)' : '';
  const note = `${merge}${invisibleNote(key)}`;
  return known.length > 0 ? `unknown key ${key}${note}${suggestion(key, known, ': ')}` : `unknown key ${key}${note}`;
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
