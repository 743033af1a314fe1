#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2: a young generation of 2 MB instead of up to 16 MB. The document of a
// large inventory survives every collection: a small young generation promotes it after one copy
// (instead of copying it to and fro in 16 MB halves) and the process touches less memory, so
// validating 75,000 hosts takes about a tenth less CPU; a small inventory is unchanged (README,
// "Validating a large inventory"). `env -S` splits the line into node and its flags on Linux.
// V8's helper threads (garbage collection, compiling) stay on: on the second core they bring a
// 1000-host apply to its first connection about a quarter sooner, for the same CPU.
'use strict';
const { join } = require('node:path');
const { cacheCommand, defaultCacheDir, loadCachedBundle } = require('../dist/bundle/loader.cjs');

// The CLI, compiled to dist/ and bundled into one CommonJS file (npm run build, which `npm ci`
// runs through the prepare script), run with V8's code cache of the last run of the same command
// from lvsprov's own cache directory, never a shared one such as /tmp, where another user could
// leave code for this one to run (src/code-cache.ts; README, "Where the time goes").
// NODE_DISABLE_COMPILE_CACHE=1, node's own switch for its compile cache, turns it off. This file
// is CommonJS, as the bundle is: an ES module here would start node's ES module loader.
const cacheDir = process.env.NODE_DISABLE_COMPILE_CACHE ? undefined : defaultCacheDir();
const bundle = loadCachedBundle(join(__dirname, '../dist/bundle/lvsprov.cjs'), { cacheDir, command: cacheCommand(process.argv) });

bundle.exports.main(process.argv).then((code) => {
  process.exitCode = code;
  // A run stopped by a wrong command line or input ran little of its command: its code is no cache.
  if (code !== 1 && code !== 4 && code !== 130) bundle.save();
});
