// Given to node with --import: at exit, writes to $LOADED_MODULES_FILE the built-in modules the
// process loaded (node's own list), the files its CommonJS loader read, and each call it made to
// module.enableCompileCache (recorded on node 20 too, which has no such function).
import { writeFileSync } from 'node:fs';
import module from 'node:module';

const compileCacheCalls = [];
const enable = module.enableCompileCache;
module.enableCompileCache = (...args) => {
  compileCacheCalls.push(args);
  return enable?.(...args);
};
process.on('exit', () => {
  const builtins = process.moduleLoadList.flatMap((entry) => (entry.startsWith('NativeModule ') ? [entry.slice('NativeModule '.length)] : []));
  writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify({ builtins, files: Object.keys(module._cache), compileCacheCalls }));
});
