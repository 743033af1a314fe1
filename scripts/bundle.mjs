// The CLI as one file instead of ~370 modules: `npm run build` compiles src/ to dist/ with tsc,
// then this bundles dist/cli/main.js into dist/bundle/lvsprov.cjs with esbuild. Measured on a
// 50-host apply, module resolution and file reads were the largest part of the time before the
// first connection; a bundle does them once. It is CommonJS so that the bin can run it through
// vm.Script with V8's code cache (src/code-cache.ts), which node 20 offers for no ES module. Code
// that only some commands run (lab, verify, listr2, the text report) is still initialised only
// when a command imports it: esbuild wraps each dynamically imported module in a function of its
// own.
//
// Left outside the bundle: ssh2 (CommonJS that finds its native crypto addon next to its own
// files), @viz-js/viz (a megabyte of wasm, loaded only for an SVG) and the YAML library, which
// src/config/yaml-library.ts requires only for a file the quick reader leaves to it.
//
// zod's messages in forty languages (370 kB, its `locales` namespace) are left out but English, its
// default: lvsprov words its own messages and never selects a language. Every command compiled them
// at start; without them `lvsprov validate` of a small inventory takes about 0.08 s less CPU.

import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/bundle');

/**
 * handlebars loads the source-map library (64 kB) only to precompile with source maps, inside a
 * try that falls back without it; lvsprov never asks for source maps.
 */
const noSourceMap = {
  name: 'no-source-map',
  setup(builder) {
    builder.onResolve({ filter: /^source-map$/ }, (args) =>
      args.importer.includes(join('node_modules', 'handlebars')) ? { path: 'source-map', namespace: 'no-source-map' } : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'no-source-map' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

/** zod's `locales` namespace with English alone. */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(join('node_modules', 'zod'))
        ? { path: join(args.resolveDir, '../locales/index.js'), namespace: 'zod-english-only' }
        : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * commander loads child_process at its top, for what lvsprov never asks of it: to run a subcommand
 * as a program of its own. Node's child_process, with dgram and the socket list it pulls in, costs
 * every command about 4 ms at start: commander gets a stand-in that loads the real module on first
 * call. What needs it (ssh2's agent, the lab) still loads it itself.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(builder) {
    const importers = ['commander'].map((name) => join('node_modules', name, ''));
    builder.onResolve({ filter: /^node:child_process$/ }, (args) =>
      importers.some((dir) => args.importer.includes(dir)) ? { path: 'child_process', namespace: 'lazy-child-process' } : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
      contents: [
        "export function spawn(...args) { return require('node:child_process').spawn(...args); }",
        "export function spawnSync(...args) { return require('node:child_process').spawnSync(...args); }",
      ].join('\n'),
      loader: 'js',
    }));
  },
};

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: { lvsprov: join(root, 'dist/cli/main.js') },
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['ssh2', '@viz-js/viz'],
  // An import() in a vm.Script needs a loader callback node 20 gives only behind a flag: the
  // external packages import()ed (ssh2, @viz-js/viz, node's own) are required, as they can be.
  supported: { 'dynamic-import': false },
  // A module's own URL: the bundle's, which sits where dist/ has its modules' folders.
  define: { 'import.meta.url': 'lvsprovBundleUrl' },
  // Strict, as the ES modules it is made of are; the banner would otherwise hide esbuild's own "use strict".
  banner: { js: `"use strict";\nconst lvsprovBundleUrl = require('node:url').pathToFileURL(__filename).href;` },
  plugins: [zodEnglishOnly, noSourceMap, lazyChildProcess],
  logLevel: 'warning',
});

// What the bin needs before the bundle: where the cache is and how to load the bundle with it.
await build({
  stdin: {
    contents: "export { defaultCacheDir } from './cache-dir.js';\nexport { cacheCommand, loadCachedBundle } from './code-cache.js';\n",
    resolveDir: join(root, 'dist'),
    sourcefile: 'loader.js',
  },
  outfile: join(outdir, 'loader.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  banner: { js: '"use strict";' },
  logLevel: 'warning',
});

// esbuild escapes every character outside ASCII in code but copies comments as they are; the
// bin reads an all-ASCII bundle as latin1, three times faster than UTF-8. The first line names the
// SHA-256 of the rest: the bin's code cache is kept by it (src/code-cache.ts).
const bundleFile = join(outdir, 'lvsprov.cjs');
const text = (await readFile(bundleFile, 'utf8')).replace(/^(\s*\/\/.*)$/gm, (line) => line.replace(/[^\x00-\x7f]/g, '?'));
await writeFile(bundleFile, `// lvsprov bundle sha256:${createHash('sha256').update(text).digest('hex')}\n${text}`);
if (/[^\x00-\x7f]/.test(text)) console.warn(`${bundleFile} is not all ASCII: the bin reads it as UTF-8, a little slower`);
