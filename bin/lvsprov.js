#!/usr/bin/env -S node --max-semi-space-size=2
// --max-semi-space-size=2: a young generation of 2 MB instead of up to 16 MB. The document of a
// large inventory survives every collection: a small young generation promotes it after one copy
// (instead of copying it to and fro in 16 MB halves) and the process touches less memory, so
// validating 75,000 hosts takes about a tenth less CPU; a small inventory is unchanged (README,
// "Validating a large inventory"). `env -S` splits the line into node and its flags on Linux.
// V8's helper threads (garbage collection, compiling) stay on: on the second core they bring a
// 1000-host apply to its first connection about a quarter sooner, for the same CPU.
import module from 'node:module';
import { join } from 'node:path';
import { defaultCacheDir } from '../dist/cache-dir.js';

// V8's compiled code of the CLI kept between runs, in the user's own cache directory (not node's
// default under the shared /tmp, where another user could leave code for this one to run): the
// next start reads it instead of compiling the bundle again, about 20 ms sooner to the first
// connection on node 22 and 24 (README, "Where the time goes"). Node 20 has no such cache;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off. It must be on before the bundle loads, hence the
// dynamic import.
module.enableCompileCache?.(join(defaultCacheDir(), 'node-compile-cache'));

// The CLI, compiled to dist/ and bundled into dist/bundle/ (npm run build, which `npm ci` runs
// through the prepare script).
const { main } = await import('../dist/bundle/lvsprov.js');

process.exitCode = await main(process.argv);
