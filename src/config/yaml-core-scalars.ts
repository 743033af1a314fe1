// How YAML 1.2's core schema reads a plain scalar (null, a boolean, a number, else the string): the
// YAML library's core tags written out (its tests and resolvers, in its order), so that the quick
// reader does not load the library for them and a scalar it reads means what it means there
// (test/unit/yaml-core-scalars.test.ts holds the two together).

interface ScalarTag {
  readonly test: RegExp;
  resolve(source: string): unknown;
}

const coreTags: readonly ScalarTag[] = [
  { test: /^(?:~|[Nn]ull|NULL)?$/, resolve: () => null },
  { test: /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, resolve: (source) => source[0] === 't' || source[0] === 'T' },
  { test: /^0o[0-7]+$/, resolve: (source) => parseInt(source.substring(2), 8) },
  { test: /^[-+]?[0-9]+$/, resolve: (source) => parseInt(source, 10) },
  { test: /^0x[0-9a-fA-F]+$/, resolve: (source) => parseInt(source.substring(2), 16) },
  {
    test: /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
    resolve: (source) => (source.slice(-3).toLowerCase() === 'nan' ? NaN : source[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY),
  },
  { test: /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, resolve: (source) => parseFloat(source) },
  { test: /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/, resolve: (source) => parseFloat(source) },
];
// Every core scalar that is not a string (null, bool, int, float) is empty or starts with one of these.
const MAY_BE_TYPED = /^[~nNtTfF0-9+.-]?$/;
const LETTER = /^[a-zA-Z]/;

/** Short words that start like a typed scalar (`note`, `nat`, `true`), read once each: a large file repeats them. */
const shortWords = new Map<string, unknown>();
const shortWordsKept = 1000;

/** A plain scalar as the core schema reads it (null, a boolean, a number or the string itself). */
export function resolvePlain(source: string): unknown {
  if (!MAY_BE_TYPED.test(source.charAt(0))) return source;
  // Shortcuts for the many names and addresses of a large inventory, read off the core schema's
  // forms: its words (null, true, false in their casings) have at most five letters, and its numbers
  // at most one dot (198.18.0.1 is a string).
  if (LETTER.test(source)) {
    if (source.length > 5) return source;
    if (shortWords.has(source)) return shortWords.get(source);
    const resolved = resolveByTags(source);
    if (shortWords.size < shortWordsKept) shortWords.set(source, resolved);
    return resolved;
  }
  if (source.indexOf('.') !== source.lastIndexOf('.')) return source;
  return resolveByTags(source);
}

/** The first core tag whose test the whole scalar passes, as the library tries them. */
export function resolveByTags(source: string): unknown {
  const tag = coreTags.find((candidate) => candidate.test.test(source));
  return tag ? tag.resolve(source) : source;
}

/**
 * A plain key that YAML's core schema reads as a number or a boolean written otherwise than its
 * text (`010` is 10, `0x1` is 1, `1e3` is 1000, `True` is true): the name would change in silence,
 * and every quoted reference to it then names something unknown.
 */
export function renamedKeyProblem(source: string, value: unknown): string | undefined {
  if ((typeof value !== 'number' && typeof value !== 'boolean') || String(value) === source) return undefined;
  return `key ${source} reads as the ${typeof value} ${String(value)} in YAML: put it in quotes (${JSON.stringify(source)}) to keep the name as written`;
}

/**
 * A plain value that YAML 1.2 reads as a number and YAML 1.1 (Ansible's reading of the same file)
 * reads otherwise: `010` is 10 here and 8 there, `08`, `0o10` and `1e3` are strings there. A port,
 * weight or timeout written so is a typo or a misread number either way: it must be written in
 * plain decimal. Hexadecimal (`0x10`, a firewall mark) reads the same in both.
 */
export function versionDependentNumberProblem(source: string, value: unknown): string | undefined {
  if (typeof value !== 'number') return undefined;
  const digits = /^[-+]?0([0-9]+)$/.exec(source)?.[1];
  let there: string | undefined;
  if (digits !== undefined) there = /^[0-7]+$/.test(digits) ? `${Number.parseInt(digits, 8) * (source.startsWith('-') ? -1 : 1)} (octal)` : `the string ${JSON.stringify(source)}`;
  else if (/^0o/.test(source) || /[eE]/.test(source)) there = `the string ${JSON.stringify(source)}`;
  if (there === undefined) return undefined;
  return `${source} reads as the number ${String(value)} in YAML 1.2 but as ${there} in YAML 1.1 (as Ansible reads it): write the number in plain decimal, or put it in quotes for text`;
}

/**
 * A file mode is read from its digits as written (`mode: 0644`, which YAML reads as the number
 * 644). A number written otherwise has other digits: `0o777` and `0x1ff` are 511, `1e3` is 1000,
 * so the mode would silently differ from the one meant.
 */
export function modeNumberProblem(source: string, value: unknown): string | undefined {
  if (typeof value !== 'number' || /^[0-7]+$/.test(source)) return undefined;
  return `mode ${source} reads as the number ${String(value)}, and a mode is read from its digits as written: write the octal digits (0644), or put them in quotes`;
}
