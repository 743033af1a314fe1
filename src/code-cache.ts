import { isAscii } from 'node:buffer';
import { fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, closeSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

// The CLI is one CommonJS file run through vm.Script with V8's code cache: the compiled code of
// the last run of the same command, kept in lvsprov's cache directory. V8 then neither parses the
// 2 MB bundle nor compiles again the functions the command ran the last time; node 20 has no
// compile cache of its own, and node's loader would make the bundle an ES module compiled anew on
// every start. The bin loads this file before the bundle, so it imports nothing of lvsprov's.
//
// A cache is only ever read by the exact bundle, node and flags that wrote it: its name carries a
// hash of all three (V8's own check compares the source's length, not its text). The bundle's
// first line names the SHA-256 of the rest, written by the build, so that a start need not load
// node:crypto and hash 2 MB; its size and time of change are in the name too, for a bundle edited
// after the build. One cache a command and install: each holds what that command compiled
// (`--version` would make a poor cache for `apply`), and a new build or node replaces the cache
// its install wrote for the command before; another install (a global one and a project's, two
// checkouts) or another set of node flags keeps its own beside it, so that using both in turn
// does not throw each one's cache away. Nothing here may stop the CLI: a cache that cannot be
// read, written or is refused by V8 only costs the compile it would have saved. Built with
// src/cache-dir.ts into dist/bundle/loader.cjs, which the bin, a CommonJS file too, requires: an
// ES module bin would start node's ES module loader for itself and the modules it imports, about
// 10 ms more.

/** What the bundle exports. */
export type BundleExports = Record<string, unknown>;

export interface CachedBundle {
  readonly exports: BundleExports;
  /** Whether V8 took the cache (false: none, or refused). */
  readonly cacheAccepted: boolean;
  /** The cache file this run reads and `save` writes; undefined when caching is off. */
  readonly cacheFile: string | undefined;
  /** Writes V8's code for this command, with every function compiled so far, unless the cache it read is still good. */
  save(): void;
}

export interface LoadOptions {
  /** The folder of cache files; undefined turns caching off. */
  readonly cacheDir: string | undefined;
  /** Which command runs: one cache file for each. */
  readonly command: string;
}

const suffix = '.v8-cache';
const keyLength = 16;
/**
 * A cache not written for this long goes when another is written: an install that is gone (a
 * deleted checkout, an old global prefix) leaves its caches behind, a megabyte or two a command.
 * An install still in use that loses its cache this way compiles once and writes it again.
 */
export const cacheMaxAgeMs = 30 * 24 * 60 * 60 * 1000;
/** Any cache file, of any install, command or release of lvsprov, and a write a crash left half done. */
const anyCacheFile = new RegExp(`^[a-z][a-z-]{0,31}(-[0-9a-f]{${keyLength}}){1,2}\\${suffix}(\\.\\d+\\.tmp)?$`);

/** The command word a cache is kept for: the first argument that is not an option, if it looks like a command. */
export function cacheCommand(argv: readonly string[]): string {
  const word = argv.slice(2).find((argument) => !argument.startsWith('-'));
  return word !== undefined && /^[a-z][a-z-]{0,31}$/.test(word) ? word : 'cli';
}

export function loadCachedBundle(file: string, options: LoadOptions): CachedBundle {
  const { bytes, changed } = readWithTime(file);
  // esbuild writes ASCII (it escapes the rest): read as latin1, which V8 keeps as one byte a
  // character and which decodes about three times faster than UTF-8 here.
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  // `apply-<install>`: what the file's name shares with the caches it replaces (writeCache).
  const owner = `${options.command}-${installKey(file)}`;
  const cacheFile = options.cacheDir === undefined ? undefined : join(options.cacheDir, `${owner}-${cacheKey(file, source, bytes, changed)}${suffix}`);
  const cachedData = cacheFile === undefined ? undefined : readIfThere(cacheFile);
  const script = new Script(wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
  const cacheAccepted = cachedData !== undefined && !script.cachedDataRejected;
  const module = { exports: {} as BundleExports };
  const run = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: object, filename: string, dirname: string) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return {
    exports: module.exports,
    cacheAccepted,
    cacheFile,
    save: () => {
      if (cacheFile === undefined || cacheAccepted) return;
      writeCache(cacheFile, options.command, owner, script.createCachedData());
    },
  };
}

/** CommonJS's own wrapper, on one line so the bundle's line numbers stay those of its file. */
function wrap(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
}

/** The first line the build writes: the SHA-256 of what follows it. */
export const buildLinePattern = /^\/\/ lvsprov bundle sha256:([0-9a-f]{64})\n/;

/** Which install runs, with which node flags: what a cache is kept apart by, and replaced within. */
function installKey(file: string): string {
  return fnv1a64([file, ...process.execArgv, process.env.NODE_OPTIONS ?? ''].join('\0'));
}

/** Which build of the bundle on which node: what a cache must match to be read. */
function cacheKey(file: string, source: string, bytes: Buffer, changed: number): string {
  const build = buildLinePattern.exec(source.slice(0, 100))?.[1] ?? sha256(file, bytes);
  return fnv1a64([build, bytes.length, changed, process.version, process.arch].join('\0'));
}

/** A bundle without the build's line (not made by scripts/bundle.mjs): hashed here, at node:crypto's cost. */
function sha256(file: string, bytes: Buffer): string {
  const { createHash } = createRequire(file)('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(bytes).digest('hex');
}

/** FNV-1a, 64 bits, of a short text: a file name for what the key holds, not a defence against anyone. */
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let index = 0; index < text.length; index++) hash = BigInt.asUintN(64, (hash ^ BigInt(text.charCodeAt(index))) * 0x100000001b3n);
  return hash.toString(16).padStart(keyLength, '0');
}

function readWithTime(file: string): { bytes: Buffer; changed: number } {
  const descriptor = openSync(file, 'r');
  try {
    return { changed: fstatSync(descriptor).mtimeMs, bytes: readFileSync(descriptor) };
  } finally {
    closeSync(descriptor);
  }
}

function readIfThere(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Atomically, readable by the user alone; the caches this install wrote for the command before
 * (another build, or node) go, those named without an install (lvsprov until 2026-12-07), and
 * every cache file not written for cacheMaxAgeMs.
 */
function writeCache(path: string, command: string, owner: string, data: Buffer): void {
  const dir = dirname(path);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(temporary, data, { mode: 0o600 });
    renameSync(temporary, path);
    const replaced = new RegExp(`^(${owner}|${command})-[0-9a-f]{${keyLength}}\\${suffix}$`);
    const oldest = Date.now() - cacheMaxAgeMs;
    for (const name of readdirSync(dir)) {
      if (name === basename(path)) continue;
      if (replaced.test(name) || (anyCacheFile.test(name) && writtenBefore(join(dir, name), oldest))) rmSync(join(dir, name), { force: true });
    }
  } catch {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // No folder to have left it in.
    }
  }
}

function writtenBefore(path: string, time: number): boolean {
  try {
    return statSync(path).mtimeMs < time;
  } catch {
    return false;
  }
}
