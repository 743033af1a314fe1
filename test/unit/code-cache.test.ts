import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheCommand, cacheMaxAgeMs } from '../../src/code-cache.js';

// The bin's loader (src/code-cache.ts, as built into dist/bundle/loader.cjs): a CommonJS bundle run with V8's code
// cache of its command's last run. Each load runs in a node process of its own, as each start of
// the CLI does: within one process V8 reuses what it compiled and never looks at a cache.

const root = mkdtempSync(join(tmpdir(), 'lvsprov-code-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const loader = join(import.meta.dirname, '../support/load-bundle.mjs');
let count = 0;

interface Loaded {
  readonly accepted: boolean;
  readonly cacheFile: string | null;
  readonly answer: unknown;
  readonly [key: string]: unknown;
}

function setUp(source: string): { bundle: string; cacheDir: string } {
  const dir = join(root, String(++count));
  mkdirSync(dir);
  const bundle = join(dir, 'bundle.cjs');
  writeFileSync(bundle, source);
  return { bundle, cacheDir: join(dir, 'cache') };
}

function load(bundle: string, cacheDir: string | undefined, command: string, save: 'save' | 'no-save' = 'save', nodeFlags: readonly string[] = []): Loaded {
  const run = spawnSync(process.execPath, [...nodeFlags, loader, bundle, cacheDir ?? '-', command, save], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Loaded;
}

const bundleSource = (answer: number): string =>
  `"use strict";\nexports.answer = function answer() { return ${answer}; };\nexports.strict = (function () { return this === undefined; })();\n`;
const cacheFiles = (dir: string): string[] => readdirSync(dir).sort();

describe("the bin's loader", () => {
  it('runs the bundle as a strict CommonJS module with its own require and file name', () => {
    const { bundle, cacheDir } = setUp(`${bundleSource(1)}exports.sep = require('node:path').sep;\nexports.file = __filename;\n`);
    expect(load(bundle, cacheDir, 'apply')).toMatchObject({ answer: 1, strict: true, sep: '/', file: bundle });
  });

  it('writes a cache, readable by the user alone, that the next run of the same command takes and keeps', () => {
    const { bundle, cacheDir } = setUp(bundleSource(1));
    const first = load(bundle, cacheDir, 'apply');
    expect(first.accepted).toBe(false);
    const file = first.cacheFile as string;
    expect(cacheFiles(cacheDir)).toEqual([basename(file)]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const written = statSync(file).ino;
    const second = load(bundle, cacheDir, 'apply');
    expect(second).toMatchObject({ accepted: true, cacheFile: file, answer: 1 });
    expect(statSync(file).ino).toBe(written);
  });

  it('writes nothing unless asked', () => {
    const { bundle, cacheDir } = setUp(bundleSource(1));
    load(bundle, cacheDir, 'apply', 'no-save');
    expect(() => statSync(cacheDir)).toThrow();
  });

  it("never gives one build another's cache, even of the same length (V8 itself compares lengths)", () => {
    const { bundle, cacheDir } = setUp(bundleSource(1));
    load(bundle, cacheDir, 'apply');
    writeFileSync(bundle, bundleSource(2));
    expect(bundleSource(2).length).toBe(bundleSource(1).length);
    const changed = load(bundle, cacheDir, 'apply');
    expect(changed).toMatchObject({ accepted: false, answer: 2 });
    // The old build's cache of the same command goes when the new one is written.
    expect(cacheFiles(cacheDir)).toEqual([basename(changed.cacheFile as string)]);
  });

  it("keys a bundle by the build's line without hashing it, and by its size and time, for an edit after the build", () => {
    const built = (answer: number): string => `// lvsprov bundle sha256:${'ab'.repeat(32)}\n${bundleSource(answer)}`;
    const { bundle, cacheDir } = setUp(built(1));
    expect(load(bundle, cacheDir, 'apply')).toMatchObject({ accepted: false, crypto: false, answer: 1 });
    expect(load(bundle, cacheDir, 'apply')).toMatchObject({ accepted: true, crypto: false, answer: 1 });
    writeFileSync(bundle, built(2));
    expect(load(bundle, cacheDir, 'apply')).toMatchObject({ accepted: false, answer: 2 });
  });

  it('keeps one cache a command', () => {
    const { bundle, cacheDir } = setUp(bundleSource(1));
    for (const command of ['apply', 'status', 'apply-x']) load(bundle, cacheDir, command);
    expect(cacheFiles(cacheDir).map((name) => name.replace(/-[0-9a-f]{16}-[0-9a-f]{16}\.v8-cache$/, ''))).toEqual(['apply', 'apply-x', 'status']);
  });

  it('keeps a cache for each install and set of node flags, so that two used in turn each keep theirs', () => {
    const { bundle, cacheDir } = setUp(bundleSource(6));
    const other = join(bundle, '..', 'other.cjs');
    writeFileSync(other, bundleSource(6));
    const flags = ['--max-semi-space-size=4'];
    for (const [file, nodeFlags] of [[bundle, []], [other, []], [bundle, flags]] as const) load(file, cacheDir, 'apply', 'save', nodeFlags);
    expect(cacheFiles(cacheDir)).toHaveLength(3);
    for (const [file, nodeFlags] of [[bundle, []], [other, []], [bundle, flags], [bundle, []]] as const) {
      expect(load(file, cacheDir, 'apply', 'save', nodeFlags)).toMatchObject({ accepted: true, answer: 6 });
    }
    // A new build of one install replaces that install's cache alone.
    writeFileSync(other, bundleSource(7));
    expect(load(other, cacheDir, 'apply')).toMatchObject({ accepted: false, answer: 7 });
    expect(cacheFiles(cacheDir)).toHaveLength(3);
    expect(load(bundle, cacheDir, 'apply')).toMatchObject({ accepted: true, answer: 6 });
  });

  it('removes a cache named as before installs had their own (command and key alone) when it writes one', () => {
    const { bundle, cacheDir } = setUp(bundleSource(8));
    mkdirSync(cacheDir);
    writeFileSync(join(cacheDir, 'apply-0123456789abcdef.v8-cache'), 'an old cache');
    writeFileSync(join(cacheDir, 'status-0123456789abcdef.v8-cache'), 'an old cache of another command');
    const written = load(bundle, cacheDir, 'apply');
    expect(cacheFiles(cacheDir)).toEqual([basename(written.cacheFile as string), 'status-0123456789abcdef.v8-cache']);
  });

  it('removes every cache file not written for the longest age when it writes one, and nothing else', () => {
    const { bundle, cacheDir } = setUp(bundleSource(9));
    mkdirSync(cacheDir);
    const day = 24 * 60 * 60 * 1000;
    const aged = (name: string, ageMs: number): string => {
      writeFileSync(join(cacheDir, name), 'another install');
      const when = new Date(Date.now() - ageMs);
      utimesSync(join(cacheDir, name), when, when);
      return name;
    };
    const goneInstall = aged('status-0123456789abcdef-fedcba9876543210.v8-cache', cacheMaxAgeMs + day);
    const halfWritten = aged('apply-0123456789abcdef-fedcba9876543210.v8-cache.4242.tmp', cacheMaxAgeMs + day);
    const recent = aged('graph-0123456789abcdef-fedcba9876543210.v8-cache', cacheMaxAgeMs - day);
    const notOurs = aged('notes.txt', cacheMaxAgeMs * 3);
    // Nothing is removed by a run that writes no cache.
    load(bundle, cacheDir, 'apply', 'no-save');
    expect(cacheFiles(cacheDir)).toEqual([halfWritten, goneInstall, recent, notOurs].sort());
    const written = load(bundle, cacheDir, 'apply');
    expect(cacheFiles(cacheDir)).toEqual([basename(written.cacheFile as string), recent, notOurs].sort());
  });

  it('runs on a damaged cache, which V8 refuses, and writes a good one in its place', () => {
    const { bundle, cacheDir } = setUp(bundleSource(3));
    const file = load(bundle, cacheDir, 'apply').cacheFile as string;
    writeFileSync(file, Buffer.from('not a code cache at all'.repeat(50)));
    expect(load(bundle, cacheDir, 'apply')).toMatchObject({ accepted: false, answer: 3 });
    expect(load(bundle, cacheDir, 'apply')).toMatchObject({ accepted: true, answer: 3 });
  });

  it('runs where the cache cannot be written, and leaves nothing behind', () => {
    const { bundle, cacheDir } = setUp(bundleSource(4));
    writeFileSync(cacheDir, 'a file where the folder would be');
    expect(load(bundle, cacheDir, 'apply')).toMatchObject({ accepted: false, answer: 4 });
    expect(readdirSync(join(cacheDir, '..')).sort()).toEqual(['bundle.cjs', 'cache']);
  });

  it('reads and writes nothing without a cache folder', () => {
    const { bundle } = setUp(bundleSource(5));
    expect(load(bundle, undefined, 'apply')).toMatchObject({ accepted: false, cacheFile: null, answer: 5 });
    expect(readdirSync(join(bundle, '..'))).toEqual(['bundle.cjs']);
  });

  it('reads a bundle with characters outside ASCII as UTF-8', () => {
    const { bundle, cacheDir } = setUp('"use strict";\n// caf\u00e9\nexports.answer = "na\u00efve \u2014 ok";\n');
    expect(load(bundle, cacheDir, 'apply').answer).toBe('na\u00efve \u2014 ok');
  });
});

describe('the command a cache is kept for', () => {
  it.each([
    [['node', 'lvsprov', 'apply', '-i', 'prod.yaml'], 'apply'],
    [['node', 'lvsprov', '-v', 'status', '--watch', '10'], 'status'],
    [['node', 'lvsprov', '--version'], 'cli'],
    [['node', 'lvsprov'], 'cli'],
    [['node', 'lvsprov', '../x/apply'], 'cli'],
    [['node', 'lvsprov', 'Apply'], 'cli'],
    [['node', 'lvsprov', 'a'.repeat(40)], 'cli'],
  ])('%j -> %s', (argv, command) => {
    expect(cacheCommand(argv)).toBe(command);
  });
});
