#!/usr/bin/env -S node --single-threaded --max-semi-space-size=2
// --single-threaded: V8's garbage collector and optimizing compiler work on this thread only.
// Their helper threads cost more CPU than they save wall time in a process that lives a second.
// --max-semi-space-size=2: a young generation of 2 MB instead of up to 16 MB. The document of a
// large inventory survives every collection: a small young generation promotes it after one copy
// (instead of copying it to and fro in 16 MB halves) and the process touches less memory, so
// validating 75,000 hosts takes about a tenth less CPU; a small inventory is unchanged (README,
// "Validating a large inventory"). `env -S` splits the line into node and its flags on Linux.
// The CLI, compiled to dist/ and bundled into dist/bundle/ (npm run build, which `npm ci` runs
// through the prepare script).
import { main } from '../dist/bundle/lvsprov.js';

process.exitCode = await main(process.argv);
