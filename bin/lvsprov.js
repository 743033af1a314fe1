#!/usr/bin/env -S node --single-threaded-gc
// --single-threaded-gc: V8's garbage collector works on this thread only. Its helper threads
// cost more CPU than they save wall time when a large inventory builds its document (README,
// "Validating a large inventory"); `env -S` splits the line into node and its flag on Linux.
// The CLI, compiled to dist/ and bundled into dist/bundle/ (npm run build, which `npm ci` runs
// through the prepare script).
import { main } from '../dist/bundle/lvsprov.js';

process.exitCode = await main(process.argv);
