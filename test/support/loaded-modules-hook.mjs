// Given to node with --import: at exit, writes to $LOADED_MODULES_FILE the built-in modules the
// process loaded (node's own list) and the files its CommonJS loader read.
import { writeFileSync } from 'node:fs';
import module from 'node:module';

process.on('exit', () => {
  const builtins = process.moduleLoadList.flatMap((entry) => (entry.startsWith('NativeModule ') ? [entry.slice('NativeModule '.length)] : []));
  writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify({ builtins, files: Object.keys(module._cache) }));
});
