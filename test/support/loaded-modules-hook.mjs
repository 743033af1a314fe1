// Given to node with --import: at exit, writes to $LOADED_MODULES_FILE the built-in modules the
// process loaded (node's own list) and the files its CommonJS loader read.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const cache = createRequire(import.meta.url)('node:module')._cache;
process.on('exit', () => {
  const builtins = process.moduleLoadList.flatMap((entry) => (entry.startsWith('NativeModule ') ? [entry.slice('NativeModule '.length)] : []));
  writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify({ builtins, files: Object.keys(cache) }));
});
