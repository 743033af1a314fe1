#!/usr/bin/env node
// The CLI, compiled to dist/ and bundled into dist/bundle/ (npm run build, which `npm ci` runs
// through the prepare script).
import { main } from '../dist/bundle/lvsprov.js';

process.exitCode = await main(process.argv);
