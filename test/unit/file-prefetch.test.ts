import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseReadSections, readScript } from '../../src/engine/batch-script.js';
import { NOTHING_PREFETCHED, PrefetchMismatchError, prefetchedFiles, prefetchPaths, withPrefetchedFiles } from '../../src/resources/file-prefetch.js';
import { parseFileLine, readFileSnippet } from '../../src/resources/file-state.js';

// The read script reads every file its probes name at once (file-prefetch.ts). Run by the shell
// hosts run it with (sh -s, dash on Debian), on real files: each probe must parse to what it
// parses to when it reads its file alone, whether the prefetch covered the file or stepped aside.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-prefetch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string | Buffer, mode = 0o644): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
};

const paths = [
  file('index.html', '<h1>rs1</h1>\n'),
  file('empty', ''),
  file('no-newline', 'a=1', 0o600),
  file('binary', Buffer.from([0, 255, 10, 13, 0x1b, 0x5b])),
  file("it's a name with spaces", 'quoted\n'),
  file('big', 'x'.repeat(100_003)),
  join(dir, 'missing'),
];
symlinkSync(paths[0] as string, join(dir, 'link'));
paths.push(join(dir, 'link'));

/** Each file as its probe reads it alone, in a shell with no prefetch. */
const alone = (path: string) => parseFileLine(execFileSync('sh', ['-c', readFileSnippet(path)]).toString().split('\n')[0]);

function readAll(list: readonly string[], options: { prefetch?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const probes = list.map(readFileSnippet);
  const output = execFileSync('sh', ['-s'], { input: readScript('n0nce', probes, undefined, options), env: options.env ?? process.env });
  const sections = parseReadSections('n0nce', output, probes.length);
  return { output: output.toString(), sections, files: list.map((_, index) => parseFileLine(sections.get(index)?.stdout.split('\n')[0])) };
}

describe('file prefetch', () => {
  it('finds the files the probes read, once each', () => {
    const probes = [readFileSnippet('/etc/a'), `${readFileSnippet('/etc/b')}; ${readFileSnippet('/etc/a')}`, 'ip -o addr show', readFileSnippet('/proc/version')];
    expect(prefetchPaths(probes)).toEqual([
      { path: '/etc/a', kind: 'file' },
      { path: '/etc/b', kind: 'file' },
    ]);
  });

  it('gives every probe what it reads alone: content, mode, empty, binary, odd names, absent, a symlink', () => {
    const { sections, files } = readAll(paths);
    expect(sections.size).toBe(paths.length);
    expect(files).toEqual(paths.map(alone));
    // A symlink reads as its target, mode too (see file-symlink.test.ts).
    expect(files[7]).toEqual({ exists: true, mode: '644', content: '<h1>rs1</h1>\n' });
  });

  it('reads the regular files with one stat and one tail (a symlink reads itself)', () => {
    const traced = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', 'sh', '-s'], { input: readScript('n0nce', paths.map(readFileSnippet)) });
    const execs = traced.stderr.toString().split('\n').flatMap((line) => /execve\("[^"]*\/(\w+)"/.exec(line)?.[1] ?? []);
    const count = (name: string) => execs.filter((exec) => exec === name).length;
    // Six regular files: one stat and one tail for all of them; the symlink's own probe adds one
    // stat and one base64.
    expect({ stat: count('stat'), tail: count('tail'), cat: count('cat'), base64: count('base64') }).toEqual({ stat: 2, tail: 1, cat: 0, base64: 1 });
  });

  it('leaves a file under /proc to its own probe: stat gives it no size its read agrees with', () => {
    const list = ['/proc/version', ...paths];
    const { output, files } = readAll(list);
    expect(output).not.toContain('F@ L3Byb2MvdmVyc2lvbg==');
    expect(files).toEqual(list.map(alone));
  });

  it('refuses a read in which a file changed between stat and tail, and the read without the prefetch gives each probe its file', () => {
    // A stat that appends a byte to the first file once it has taken the sizes: the change the
    // shell cannot see, made for real between the two programs.
    const shim = join(dir, 'shim');
    mkdirSync(shim, { recursive: true });
    const realStat = execFileSync('sh', ['-c', 'command -v stat']).toString().trim();
    writeFileSync(join(shim, 'stat'), `#!/bin/sh\n${realStat} "$@"; s=$?\nprintf x >> "$4"\nexit $s\n`, { mode: 0o755 });
    const grows = file('grows', 'before\n');
    const list = [grows, paths[0] as string];
    const env = { ...process.env, PATH: `${shim}:${process.env.PATH ?? ''}` };
    // The script puts the sbin and bin folders first; the shim goes in front of them.
    const probes = list.map(readFileSnippet);
    const script = readScript('n0nce', probes).replace('export LC_ALL=C PATH="', `export LC_ALL=C PATH="${shim}:`);
    const output = execFileSync('sh', ['-s'], { input: script, env });
    expect(() => parseReadSections('n0nce', output, probes.length)).toThrow(PrefetchMismatchError);
    expect(readFileSync(grows, 'utf8')).toBe('before\nx');
    const again = readAll(list, { prefetch: false });
    expect(again.output).not.toContain('@ ');
    expect(again.files).toEqual(list.map(alone));
    expect(again.files[0]).toMatchObject({ content: 'before\nx' });
  });

  it('splits files by bytes: a file that is not UTF-8 survives as bytes, and as text reads as changed', () => {
    const binary = paths[3] as string;
    const output = execFileSync('sh', ['-s'], { input: readScript('n0nce', [readFileSnippet(binary)]) });
    expect(parseFileLine(parseReadSections('n0nce', output, 1).get(0)?.stdout)).toEqual(alone(binary));
    expect(() => parseReadSections('n0nce', output.toString('utf8'), 1)).toThrow(PrefetchMismatchError);
  });

  it('a read script without file probes has no prefetch section', () => {
    expect(readScript('n0nce', ['ip -o addr show'])).not.toContain('lvsprov_prefetched');
  });

  it('refuses references it cannot resolve, and output whose sizes do not add up', () => {
    const a = Buffer.from('/a').toString('base64');
    expect(() => prefetchedFiles(Buffer.from(`|${a}|\n644 3\n==> /a <==\nab`))).toThrow(PrefetchMismatchError);
    expect(() => prefetchedFiles(Buffer.from(`|${a}|\n644 1\n==> /a <==\nab`))).toThrow(PrefetchMismatchError);
    expect(prefetchedFiles(Buffer.from(`|${a}|\n644 2\n==> /a <==\nab`)).files).toEqual(new Map([[a, 'F 644 YWI=']]));
    expect(prefetchedFiles(Buffer.from(`|:${a}|\n644 0\n==> /a <==\n1\t2\n\n`)).values).toEqual(new Map([[a, '1\t2']]));
    expect(() => withPrefetchedFiles(`F@ ${a}\n`, NOTHING_PREFETCHED)).toThrow(PrefetchMismatchError);
    expect(() => parseFileLine(`F@ ${a}`)).toThrow(/unexpected file probe line/);
  });
});
