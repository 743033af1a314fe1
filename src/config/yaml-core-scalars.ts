import { Schema, type Scalar } from 'yaml';

// How YAML 1.2's core schema reads a plain scalar (null, a boolean, a number, else the string), taken
// from the YAML library itself so that a scalar the quick reader reads means what it means there.

interface ScalarTag {
  readonly test: RegExp;
  resolve(source: string, onError: (message: string) => void, options: object): unknown;
}
// The core schema's own tests and resolvers, in the library's order, so a scalar reads as it would there.
const coreTags = new Schema({ schema: 'core' }).tags.filter((tag) => tag.default === true && tag.test !== undefined && !tag.collection) as unknown as ScalarTag[];
// Every core scalar that is not a string (null, bool, int, float) starts with one of these.
const MAY_BE_TYPED = /^[~nNtTfF0-9+.-]?$/;

/** A plain scalar as the core schema reads it (null, a boolean, a number or the string itself). */
export function resolvePlain(source: string, onError: (message: string) => void): unknown {
  if (!MAY_BE_TYPED.test(source.slice(0, 1))) return source;
  const tag = coreTags.find((candidate) => candidate.test.test(source));
  if (!tag) return source;
  const resolved = tag.resolve(source, onError, {});
  return resolved !== null && typeof resolved === 'object' ? (resolved as Scalar).value : resolved;
}

