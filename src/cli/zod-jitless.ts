import { config } from 'zod';

// zod compiles a parser for each object schema (`new Function`) the first time it parses with it.
// A run of the CLI parses each schema a few times at most, and the code V8 caches between runs
// (src/code-cache.ts) cannot hold functions made from strings: every run would compile them
// again. Interpreted, they cost less. Set before any schema exists: zod reads it as it builds one.
config({ jitless: true });
