// Loads a bundle through the bin's loader in a process of its own (V8 keeps what it compiled per
// process and would not even look at a cache for a source it has seen) and prints what came of it.
//   node load-bundle.mjs BUNDLE CACHE_DIR|- COMMAND [save]
import { createRequire } from 'node:module';

// The loader as the bin requires it.
const { loadCachedBundle } = createRequire(import.meta.url)('../../dist/bundle/loader.cjs');

const [bundle, cacheDir, command, save] = process.argv.slice(2);
const loaded = loadCachedBundle(bundle, { cacheDir: cacheDir === '-' ? undefined : cacheDir, command });
if (save === 'save') loaded.save();
const { answer, ...rest } = loaded.exports;
const crypto = process.moduleLoadList.includes('NativeModule crypto');
console.log(JSON.stringify({ accepted: loaded.cacheAccepted, cacheFile: loaded.cacheFile ?? null, crypto, answer: typeof answer === 'function' ? answer() : answer, ...rest }));
