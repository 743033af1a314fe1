// The CLI as a few files instead of ~370 modules: `npm run build` compiles src/ to dist/ with tsc,
// then this bundles dist/cli/main.js into dist/bundle/ with esbuild. Measured on a 50-host apply,
// module resolution and file reads were the largest part of the time before the first connection;
// a bundle does them once. Code loaded by dynamic import (lab, verify, listr2, the text report)
// stays in chunks of its own, loaded only when used.
//
// Left outside the bundle: ssh2 (CommonJS that finds its native crypto addon next to its own
// files), @viz-js/viz (a megabyte of wasm, loaded only for an SVG) and the YAML library, which
// src/config/yaml-library.ts requires only for a file the quick reader leaves to it.
//
// zod's messages in forty languages (370 kB, its `locales` namespace) are left out but English, its
// default: lvsprov words its own messages and never selects a language. Every command compiled them
// at start; without them `lvsprov validate` of a small inventory takes about 0.08 s less CPU.

import { rm } from 'node:fs/promises';
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

// Chunk names carry content hashes: old chunks would pile up.
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: { lvsprov: join(root, 'dist/cli/main.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ssh2', '@viz-js/viz'],
  plugins: [zodEnglishOnly, noSourceMap, lazyChildProcess],
  // Bundled CommonJS packages (handlebars) call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as lvsprovCreateRequire } from 'node:module'; const require = lvsprovCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
