import { createRequire } from 'node:module';

// A role variable's `pattern` is matched by RE2 (the re2js port), never by JavaScript's RegExp: a
// backtracking engine takes exponential time on `(a+)+b` or `(a|aa)*c` and polynomial time on
// `\d*\d*\d*x` for a long value that fails near its end, so one pattern in a role.yaml could hang
// `lvsprov validate`. RE2 matches in time linear in the value, whatever the pattern, and refuses
// what needs backtracking (backreferences, lookarounds) when the pattern is read.
//
// Loaded by `require` the first time a pattern is compiled, and never bundled (as the YAML
// library): no shipped role declares a pattern, so most runs never load it.

type Re2Library = typeof import('re2js');

let library: Re2Library | undefined;

function re2(): Re2Library {
  library ??= createRequire(import.meta.url)('re2js') as Re2Library;
  return library;
}

export type WholeMatch = (value: string) => boolean;

const compiled = new Map<string, WholeMatch | string>();

/** A test that the whole value matches `pattern`, or why the pattern is refused. */
export function linearPattern(pattern: string): WholeMatch | string {
  let result = compiled.get(pattern);
  if (result === undefined) {
    const { RE2JS } = re2();
    try {
      const regexp = RE2JS.compile(pattern);
      result = (value: string) => regexp.matches(value);
    } catch (error) {
      const reason = error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : String(error);
      result = `must be a regular expression RE2 can match in linear time (no backreferences or lookarounds): ${reason}`;
    }
    compiled.set(pattern, result);
  }
  return result;
}
