import { readFileSync } from 'node:fs';

// A system database file (/etc/services, /etc/passwd) read once per process and kept as parsed:
// every host of a run asks the same questions of it. A file that cannot be read reads as empty,
// as glibc's files backend then finds nothing in it.

const parsed = new Map<(text: string) => unknown, Map<string, unknown>>();

/** `parse` of `file`'s text (empty when it cannot be read), computed once per file and parser. */
export function systemDatabase<T>(file: string, parse: (text: string) => T): T {
  let byFile = parsed.get(parse);
  if (byFile === undefined) parsed.set(parse, (byFile = new Map()));
  if (byFile.has(file)) return byFile.get(file) as T;
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // Nothing is found in a database that cannot be read.
  }
  const value = parse(text);
  byFile.set(file, value);
  return value;
}
