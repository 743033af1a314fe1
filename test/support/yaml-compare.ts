// Compares the quick YAML reader with the library on one text: same value (types, key order,
// prototypes), same position for every node and key, nothing accepted that the library refuses.
import { ConfigError } from '../../src/errors.js';
import { quickRead } from '../../src/config/yaml-quick-read.js';
import { YamlSource, type PathSegment } from '../../src/config/yaml-source.js';

/** Strict equality of parsed values: same kinds, same own keys in the same order, same prototypes. */
function same(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return keysA.length === keysB.length && keysA.every((key, index) => key === keysB[index] && same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

function pathsOf(value: unknown, prefix: PathSegment[] = [], out: PathSegment[][] = []): PathSegment[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((item, index) => pathsOf(item, [...prefix, index], out));
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) pathsOf(item, [...prefix, key], out);
  return out;
}

export type Outcome = 'quick' | 'library only' | 'refused';

/** Every way the quick reading of `text` differs from the library's (none, or the test fails), and which way read it. */
export function compareWithLibrary(text: string, differences: string[]): Outcome {
  const quick = quickRead(text);
  let library: YamlSource;
  try {
    library = YamlSource.parseWithLibrary('f.yaml', text);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    if (quick !== null) differences.push(`accepted what the library refuses (${error.message}):\n${text}`);
    return 'refused';
  }
  if (quick === null) return 'library only';
  if (!same(quick.value, library.value())) differences.push(`values differ:\n${text}\nquick: ${JSON.stringify(quick.value)}\nlibrary: ${JSON.stringify(library.value())}`);
  const fast = YamlSource.parse('f.yaml', text);
  for (const path of pathsOf(library.value())) {
    for (const atKey of [false, true]) {
      const expected = library.problem(path, 'x', atKey);
      const actual = fast.problem(path, 'x', atKey);
      if (actual.line !== expected.line || actual.col !== expected.col) {
        differences.push(`${path.join('.')} (at key: ${atKey}) is at ${actual.line}:${actual.col}, the library says ${expected.line}:${expected.col}, in:\n${text}`);
      }
    }
    if (!fast.has(path) || fast.has([...path, 'missing']) !== library.has([...path, 'missing'])) differences.push(`has(${path.join('.')}) differs in:\n${text}`);
  }
  return 'quick';
}
