// Given to node with --import: at exit, writes to $LOADED_MODULES_FILE the built-in modules the
// process loaded (node's own list), the files its CommonJS loader read, and the first line of the
// body of each function it made from a string (`Function(...)`, which V8's code cache cannot hold).
import { writeFileSync } from 'node:fs';
import module from 'node:module';

const fromStrings = [];
const made = (args) => fromStrings.push(String(args.at(-1) ?? '').split('\n', 1)[0]);
globalThis.Function = new Proxy(globalThis.Function, {
  construct(target, args, newTarget) {
    made(args);
    return Reflect.construct(target, args, newTarget === globalThis.Function ? target : newTarget);
  },
  apply(target, self, args) {
    made(args);
    return Reflect.apply(target, self, args);
  },
});

process.on('exit', () => {
  const builtins = process.moduleLoadList.flatMap((entry) => (entry.startsWith('NativeModule ') ? [entry.slice('NativeModule '.length)] : []));
  writeFileSync(process.env.LOADED_MODULES_FILE, JSON.stringify({ builtins, files: Object.keys(module._cache), fromStrings }));
});
