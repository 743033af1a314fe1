import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { PathSegment, YamlSource } from './yaml-source.js';

/** Flatten zod issues into located problems, each pointing at the YAML node that caused it. */
export function zodProblems(source: YamlSource, error: z.ZodError, prefix: readonly PathSegment[] = []): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)))];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push(source.problem([...path, key], 'unknown key', true));
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest instead of zod's generic "invalid input".
      const best = issue.errors.reduce((a, b) => (b.length < a.length ? b : a));
      problems.push(source.problem(path, best.map((inner) => inner.message).join('; ')));
    } else if (issue.code === 'custom' && (issue.params as { atKey?: boolean } | undefined)?.atKey) {
      problems.push(source.problem(path, issue.message, true));
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      problems.push(source.problem(path, `missing (expected ${issue.expected})`));
    } else {
      problems.push(source.problem(path, issue.message));
    }
  }
  return problems;
}

/** Parse `value` (found at `prefix` inside `source`) with `schema`, or throw a located ConfigError. */
export function parseWith<S extends z.ZodType>(
  source: YamlSource,
  schema: S,
  value: unknown,
  prefix: readonly PathSegment[] = [],
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigError(zodProblems(source, result.error, prefix));
}
