import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath } from '../support/cli.js';

// What the commands that contact no host load: each costs every run its start-up time, so what
// only a connection needs (ssh2, node's crypto) and what lvsprov never asks of a library (node's
// child_process, which commander imports at its top; scripts/bundle.mjs gives it a stand-in)
// stays unloaded; and where and when the bin keeps V8's compiled code between runs. Runs the built CLI.

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'lvsprov-startup-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Loaded {
  readonly builtins: string[];
  readonly files: string[];
  /** The first line of the body of each function made from a string (`Function(...)`). */
  readonly fromStrings: string[];
}

function loadedBy(args: readonly string[], exitCode = 0, env: NodeJS.ProcessEnv = {}): Loaded {
  const file = join(dir, 'loaded.json');
  rmSync(file, { force: true });
  const run = spawnSync(process.execPath, ['--import', join(root, 'test/support/loaded-modules-hook.mjs'), cliPath, ...args], {
    cwd: root,
    env: { ...process.env, ...env, LOADED_MODULES_FILE: file },
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(exitCode);
  return JSON.parse(readFileSync(file, 'utf8')) as Loaded;
}

describe('a command that contacts no host', () => {
  it.each([
    ['--version', ['--version']],
    ['validate', ['validate', '-i', 'inventories/lab-ha.yaml']],
    ['graph', ['graph', '-i', 'inventories/lab-ha.yaml', '--format', 'dot']],
    ['schema', ['schema']],
  ])('%s loads neither child_process, node:crypto nor ssh2', (_name, args) => {
    const { builtins, files } = loadedBy(args);
    expect(builtins).not.toContain('child_process');
    expect(builtins).not.toContain('crypto');
    expect(files.filter((path) => path.includes(join('node_modules', 'ssh2', '')))).toEqual([]);
  });

  it('an apply, which connects, loads all three: what the hook records is real', () => {
    // The one host refuses the connection at once (port 1): the run ends unreachable (exit 3).
    const inventory = join(dir, 'inventory.yaml');
    writeFileSync(inventory, stringify({ ssh: { user: 'root', port: 1, agent: false }, hosts: { alpha: { address: '127.0.0.2', groups: ['realservers'], vars: { web_root: '/var/www/lvsprov' } } }, lvs: { vips: { web: { address: '192.0.2.10' } } } }));
    const { builtins, files } = loadedBy(['apply', '-i', inventory, '-p', 'bench/lvsprov/playbook.yaml', '--json'], 3);
    expect(builtins).toContain('child_process');
    expect(builtins).toContain('crypto');
    expect(files.filter((path) => path.includes(join('node_modules', 'ssh2', ''))).length).toBeGreaterThan(0);
  });
});

describe('zod', () => {
  // What zod 4 compiles for an object schema the first time it parses with it (its fast path); handlebars
  // compiles each template once, which no cache could spare either.
  const zodParsers = (bodies: readonly string[]): string[] => bodies.filter((body) => /^return function \(payload, ctx\)/.test(body));

  it('parses without compiling parsers from strings: a run of the CLI would compile them anew each time, outside the code cache', () => {
    const { fromStrings } = loadedBy(['validate', '-i', 'inventories/lab-ha.yaml']);
    expect(fromStrings.length).toBeGreaterThan(0);
    expect(zodParsers(fromStrings)).toEqual([]);
  });

  it('and the hook sees such a parser where zod compiles one: the same kind of schema, parsed by zod as it comes', () => {
    const script = "const { z } = require('zod'); z.object({ a: z.string(), b: z.number() }).parse({ a: 'x', b: 1 });";
    const file = join(dir, 'loaded.json');
    const run = spawnSync(process.execPath, ['--import', join(root, 'test/support/loaded-modules-hook.mjs'), '-e', script], { cwd: root, env: { ...process.env, LOADED_MODULES_FILE: file }, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(zodParsers((JSON.parse(readFileSync(file, 'utf8')) as Loaded).fromStrings)).toHaveLength(1);
  });
});

describe('the YAML library', () => {
  const yamlFiles = (files: readonly string[]): string[] => files.filter((path) => path.includes(join('node_modules', 'yaml', '')));

  it('is in no chunk of the bundle: it loads from node_modules when a file needs it', () => {
    const bundle = join(root, 'dist/bundle');
    const files = readdirSync(bundle);
    expect(files.sort()).toEqual(['loader.cjs', 'lvsprov.cjs']);
    expect(readFileSync(join(bundle, 'lvsprov.cjs'), 'latin1')).toMatch(/^\/\/ lvsprov bundle sha256:[0-9a-f]{64}\n"use strict";\n/);
    expect(readFileSync(join(bundle, 'lvsprov.cjs'), 'utf8')).not.toContain('node_modules/yaml/');
  });

  it('is not loaded for files the quick reader reads: the inventory, the playbook and the roles lvsprov ships', () => {
    expect(yamlFiles(loadedBy(['validate', '-i', 'inventories/lab-ha.yaml']).files)).toEqual([]);
  });

  it('is loaded for a file outside the quick subset (an anchor), which it reads', () => {
    const inventory = join(dir, 'anchored.yaml');
    writeFileSync(inventory, readFileSync(join(root, 'inventories/lab-ha.yaml'), 'utf8').replace(/^ssh:$/m, 'ssh: &shared'));
    expect(readFileSync(inventory, 'utf8')).toContain('&shared');
    expect(yamlFiles(loadedBy(['validate', '-i', inventory]).files).length).toBeGreaterThan(0);
  });
});

describe("V8's code cache", () => {
  const cacheFiles = (cache: string): string[] => readdirSync(cache).filter((name) => name.endsWith('.v8-cache'));

  it("is kept in lvsprov's own cache directory, $LVSPROV_CACHE, one a command, and the next run takes it as it is", () => {
    const cache = join(dir, 'cache');
    loadedBy(['validate', '-i', 'inventories/lab-ha.yaml'], 0, { LVSPROV_CACHE: cache });
    const [file] = cacheFiles(cache);
    expect(cacheFiles(cache)).toEqual([expect.stringMatching(/^validate-[0-9a-f]{16}-[0-9a-f]{16}\.v8-cache$/)]);
    const written = statSync(join(cache, file as string));
    expect(written.size).toBeGreaterThan(100_000);
    // Taken by V8: a refused cache would be written again, a new file in its place.
    loadedBy(['validate', '-i', 'inventories/lab-ha.yaml'], 0, { LVSPROV_CACHE: cache });
    expect(statSync(join(cache, file as string)).ino).toBe(written.ino);
    loadedBy(['--version'], 0, { LVSPROV_CACHE: cache });
    expect(cacheFiles(cache).map((name) => name.split('-')[0]).sort()).toEqual(['cli', 'validate']);
  });

  it('and under ~/.cache/lvsprov without it', () => {
    const home = join(dir, 'home');
    loadedBy(['--version'], 0, { LVSPROV_CACHE: '', HOME: home });
    expect(cacheFiles(join(home, '.cache', 'lvsprov'))).toEqual([expect.stringMatching(/^cli-/)]);
  });

  it('is not written for a run its input stopped, nor with NODE_DISABLE_COMPILE_CACHE', () => {
    const refused = join(dir, 'refused');
    loadedBy(['validate', '-i', 'no-such-inventory.yaml'], 4, { LVSPROV_CACHE: refused });
    loadedBy(['--version'], 0, { LVSPROV_CACHE: refused, NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(() => readdirSync(refused)).toThrow();
  });
});
