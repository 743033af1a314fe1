import { createRequire } from 'node:module';

// The YAML library, loaded the first time a file needs it. The quick reader (yaml-quick-read.ts)
// reads every file lvsprov ships and a usual inventory without it, and the library's modules cost
// every command about 15 ms to compile at start, for files that never reach them. It is loaded by
// `require` so that reading a file stays synchronous, and never bundled (scripts/bundle.mjs would
// otherwise compile it into a chunk that every command imports). Its node type guards compare
// `Symbol.for` keys, so a node is recognised whichever copy of the library made it.

export type YamlLibrary = typeof import('yaml');

let library: YamlLibrary | undefined;

export function yamlLibrary(): YamlLibrary {
  library ??= createRequire(import.meta.url)('yaml') as YamlLibrary;
  return library;
}
