import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseReadSections, readScript } from '../../src/engine/batch-script.js';
import { prefetchedFiles, prefetchPaths, withPrefetchedFiles } from '../../src/resources/file-prefetch.js';
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

function readAll(list: readonly string[]) {
  const probes = list.map(readFileSnippet);
  const output = execFileSync('sh', ['-s'], { input: readScript('n0nce', probes) }).toString();
  const sections = parseReadSections('n0nce', output, probes.length);
  return { output, sections, files: list.map((_, index) => parseFileLine(sections.get(index)?.stdout.split('\n')[0])) };
}

describe('file prefetch', () => {
  it('finds the files the probes read, once each', () => {
    expect(prefetchPaths([readFileSnippet('/etc/a'), `${readFileSnippet('/etc/b')}; ${readFileSnippet('/etc/a')}`, 'ip -o addr show'])).toEqual(['/etc/a', '/etc/b']);
  });

  it('gives every probe what it reads alone: content, mode, empty, binary, odd names, absent, a symlink', () => {
    const { sections, files } = readAll(paths);
    expect(sections.size).toBe(paths.length);
    expect(files).toEqual(paths.map(alone));
    expect(files[7]).toMatchObject({ exists: true, mode: '777' });
  });

  it('reads the regular files with one stat, one cat and one base64 (a symlink reads itself)', () => {
    const traced = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', 'sh', '-s'], { input: readScript('n0nce', paths.map(readFileSnippet)) });
    const execs = traced.stderr.toString().split('\n').flatMap((line) => /execve\("[^"]*\/(\w+)"/.exec(line)?.[1] ?? []);
    const count = (name: string) => execs.filter((exec) => exec === name).length;
    // Six regular files: one stat, one cat, one base64 for all of them; the symlink's own probe
    // adds one stat and one base64.
    expect({ stat: count('stat'), cat: count('cat'), base64: count('base64') }).toEqual({ stat: 2, cat: 1, base64: 2 });
  });

  it('steps aside, and every probe reads its own file, when what it read does not match the sizes (a file that changed, or /proc)', () => {
    const list = ['/proc/version', ...paths];
    const { output, files } = readAll(list);
    expect(output).not.toContain('F@ ');
    expect(files).toEqual(list.map(alone));
  });

  it('a read script without file probes has no prefetch section', () => {
    expect(readScript('n0nce', ['ip -o addr show'])).not.toContain('lvsprov_prefetched');
  });

  it('leaves references it cannot resolve for the parser to refuse, and refuses output whose sizes do not add up', () => {
    expect(prefetchedFiles('|YQ==|\n644 3\nYWI=')).toEqual(new Map());
    expect(prefetchedFiles('|YQ==|\n644 2\nYWI=')).toEqual(new Map([['YQ==', 'F 644 YWI=']]));
    expect(withPrefetchedFiles('F@ YQ==\n', new Map([['Yg==', 'F 644 ']]))).toBe('F@ YQ==\n');
    expect(() => parseFileLine('F@ YQ==')).toThrow(/unexpected file probe line/);
  });
});
