import { Schema, type Scalar } from 'yaml';

// How YAML 1.2's core schema reads a plain scalar (null, a boolean, a number, else the string), taken
// from the YAML library itself so that a scalar the quick reader reads means what it means there.

interface ScalarTag {
  readonly test: RegExp;
  resolve(source: string, onError: (message: string) => void, options: object): unknown;
}
// The core schema's own tests and resolvers, in the library's order, so a scalar reads as it would there.
const coreTags = new Schema({ schema: 'core' }).tags.filter((tag) => tag.default === true && tag.test !== undefined && !tag.collection) as unknown as ScalarTag[];
// Every core scalar that is not a string (null, bool, int, float) is empty or starts with one of these.
const MAY_BE_TYPED = /^[~nNtTfF0-9+.-]?$/;
const LETTER = /^[a-zA-Z]/;

/** Short words that start like a typed scalar (`note`, `nat`, `true`), read once each: a large file repeats them. */
const shortWords = new Map<string, unknown>();
const shortWordsKept = 1000;

/** A plain scalar as the core schema reads it (null, a boolean, a number or the string itself). */
export function resolvePlain(source: string, onError: (message: string) => void): unknown {
  if (!MAY_BE_TYPED.test(source.charAt(0))) return source;
  // Shortcuts for the many names and addresses of a large inventory, read off the core schema's
  // forms: its words (null, true, false in their casings) have at most five letters, and its numbers
  // at most one dot (198.18.0.1 is a string).
  if (LETTER.test(source)) {
    if (source.length > 5) return source;
    if (shortWords.has(source)) return shortWords.get(source);
    const resolved = resolveByTags(source, onError);
    if (shortWords.size < shortWordsKept) shortWords.set(source, resolved);
    return resolved;
  }
  if (source.indexOf('.') !== source.lastIndexOf('.')) return source;
  return resolveByTags(source, onError);
}

function resolveByTags(source: string, onError: (message: string) => void): unknown {
  const tag = coreTags.find((candidate) => candidate.test.test(source));
  if (!tag) return source;
  const resolved = tag.resolve(source, onError, {});
  return resolved !== null && typeof resolved === 'object' ? (resolved as Scalar).value : resolved;
}

