import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command, quote } from '../../src/shell/quote.js';

// quote() is only right if a real shell reads the word back unchanged, as exactly one argument,
// without running or expanding anything. Each word is pasted into the script text, the way the
// batched scripts paste inventory values, and run by real shells in a directory holding known
// files, so a glob that expands or a redirection that creates a file shows up.

const hostile = [
  "it's",
  "''",
  "'\\''",
  'say "hi"',
  '"',
  '$(touch pwned)',
  '`touch pwned`',
  '$HOME',
  '${HOME:-x}',
  '$((6*7))',
  'two words',
  ' leading and trailing ',
  '\t',
  'line one\nline two',
  'crlf\r\n',
  '',
  '-n',
  '--',
  '-e \\n',
  '*',
  '?',
  '[ab]*',
  '~',
  '~root',
  'a;touch pwned',
  'a|cat',
  'a && touch pwned',
  '>pwned',
  '<pwned',
  '#not a comment',
  '\\',
  '\\n',
  '!',
  '%s%d',
  'a=b',
  'é ünï 漢字',
  '{a,b}',
];

// /bin/sh is dash on Debian; a remote login shell is often bash. Test each distinct one present.
const shells = ['/bin/sh', '/bin/bash', '/bin/dash']
  .filter((shell) => existsSync(shell))
  .filter((shell, index, all) => all.findIndex((other) => realpathSync(other) === realpathSync(shell)) === index);

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lvsprov-quote-'));
  writeFileSync(join(dir, 'alpha'), '');
  writeFileSync(join(dir, 'beta'), '');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(shell: string, script: string): string {
  const result = spawnSync(shell, ['-c', script], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent-home' } });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

describe('quote', () => {
  it('has real shells to test against', () => expect(shells).toContain('/bin/sh'));

  for (const shell of shells) {
    describe(shell, () => {
      for (const word of hostile) {
        it(`round-trips ${JSON.stringify(word)} as one word`, () => {
          const out = run(shell, `set -- ${quote(word)}; printf '%s:%s' "$#" "$1"`);
          expect(out).toBe(`1:${word}`);
          // Nothing ran: no command substitution or redirection created a file.
          expect(readdirSync(dir).sort()).toEqual(['alpha', 'beta']);
        });
      }

      it('keeps every word of command() apart and unchanged', () => {
        const out = run(shell, command('printf', '[%s]', ...hostile));
        expect(out).toBe(hostile.map((word) => `[${word}]`).join(''));
        expect(readdirSync(dir).sort()).toEqual(['alpha', 'beta']);
      });
    });
  }

  it('leaves plain words bare so commands stay readable', () => {
    expect(command('ip', 'addr', 'add', '198.51.100.50/32', 'dev', 'lo', 'label', 'lo:0')).toBe('ip addr add 198.51.100.50/32 dev lo label lo:0');
    expect(quote(65536)).toBe('65536');
  });

  it('refuses NUL, which no shell word can carry', () => {
    expect(() => quote('a\0b')).toThrow(/NUL/);
    expect(() => quote('\0')).toThrow(/NUL/);
    expect(() => command('printf', '%s', 'ok', 'x\0')).toThrow(/NUL/);
  });
});
