import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSshConfigLine } from '../../src/transport/ssh-config-line.js';
import { resolveSshConfig } from '../../src/transport/ssh-config.js';

// ssh_config lines split as OpenSSH 9.2 splits them (strdelim for the keyword, argv_split for the
// values), and the same files resolved by lvsprov and by `ssh -G -F FILE HOST`.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-ssh-config-line-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const configFile = (text: string): string => {
  const file = join(dir, `config-${++count}`);
  writeFileSync(file, text);
  return file;
};

describe('one ssh_config line', () => {
  it.each([
    ['  User deploy', { keyword: 'User', keywordCol: 3, words: [['deploy', 8]] }],
    ['User=deploy', { keyword: 'User', keywordCol: 1, words: [['deploy', 6]] }],
    ['User = deploy', { keyword: 'User', keywordCol: 1, words: [['deploy', 8]] }],
    ['"Port" 2001', { keyword: 'Port', keywordCol: 1, words: [['2001', 8]] }],
    ["Host 'db1'", { keyword: 'Host', keywordCol: 1, words: [['db1', 6]] }],
    ["Host * !'alpha'", { keyword: 'Host', keywordCol: 1, words: [['*', 6], ['!alpha', 8]] }],
    ['IdentityFile /k/a"b c"d', { keyword: 'IdentityFile', keywordCol: 1, words: [['/k/ab cd', 14]] }],
    ['IdentityFile /tmp/my\\ key', { keyword: 'IdentityFile', keywordCol: 1, words: [['/tmp/my key', 14]] }],
    ['IdentityFile "a\\"b" \'c\\\'d\' e\\x', { keyword: 'IdentityFile', keywordCol: 1, words: [['a"b', 14], ["c'd", 21], ['e\\x', 28]] }],
    ['Host alpha =beta', { keyword: 'Host', keywordCol: 1, words: [['alpha', 6], ['=beta', 12]] }],
    ['UserKnownHostsFile /tmp/kh=1', { keyword: 'UserKnownHostsFile', keywordCol: 1, words: [['/tmp/kh=1', 20]] }],
    ['User me#x # comment', { keyword: 'User', keywordCol: 1, words: [['me#x', 6]] }],
    ['Host #disabled', { keyword: 'Host', keywordCol: 1, words: [] }],
    ['Host alpha\r  Port 2001\r', { keyword: 'Host', keywordCol: 1, words: [['alpha\r', 6], ['Port', 14], ['2001', 19]] }],
    ['Host alpha\0 beta', { keyword: 'Host', keywordCol: 1, words: [['alpha', 6]] }],
  ])('%j', (line, expected) => {
    const read = readSshConfigLine(line);
    expect(read.kind === 'directive' ? { keyword: read.keyword, keywordCol: read.keywordCol, words: read.words.map((word) => [word.text, word.col]) } : read).toEqual(expected);
  });

  it.each([['='], ['  =  '], ['# comment'], [''], ['\f'], ['"Port 2001']])('passes over %j, as ssh does', (line) => {
    expect(readSshConfigLine(line)).toEqual({ kind: 'blank' });
  });

  it.each([
    ['  User "x', 8, 'this quote is not closed (ssh refuses the file too: "invalid quotes")'],
    ["IdentityFile 'a", 14, 'this quote is not closed (ssh refuses the file too: "invalid quotes")'],
    ['  Port', 3, 'Port has no value after it (ssh refuses the file too: "no argument after keyword")'],
    ['Port =', 1, 'Port has no value after it (ssh refuses the file too: "no argument after keyword")'],
  ])('refuses %j at column %i', (line, col, message) => {
    expect(readSshConfigLine(line)).toEqual({ kind: 'problem', col, message });
  });
});

describe('ssh_config files read as ssh -G reads them', () => {
  const me = userInfo().username;
  const include = configFile('Host alpha\n  Port 2001\n');
  const lvsprov = (file: string, host: string, keyword: string): string => {
    const found = resolveSshConfig(file, { host }).values.get(keyword)?.values;
    return found?.join(' ') ?? { user: me, port: '22', hostname: host }[keyword] ?? '';
  };
  const ssh = (file: string, host: string, keyword: string): string => {
    const run = spawnSync('ssh', ['-G', '-F', file, host], { encoding: 'utf8', env: { ...process.env, USER: me } });
    expect(run.status, run.stderr).toBe(0);
    return run.stdout.split('\n').find((line) => line.startsWith(`${keyword} `))?.slice(keyword.length + 1) ?? '';
  };
  it.each([
    ["Host 'db1'\n  HostName 198.51.100.10\n  Port 2222\n", 'db1', { hostname: '198.51.100.10', port: '2222' }],
    ["Host * !'alpha'\n  User deploy\n", 'alpha', { user: me }],
    ["Host * !'alpha'\n  User deploy\n", 'db1', { user: 'deploy' }],
    ["Host alpha\n  UserKnownHostsFile '/tmp/kh'\n  IdentityFile /tmp/my\\ key\n  HostKeyAlias 'ka'\n", 'alpha', { userknownhostsfile: '/tmp/kh', identityfile: '/tmp/my key', hostkeyalias: 'ka' }],
    ['Host alpha\n  IdentityFile /k/a"b c"d\n', 'alpha', { identityfile: '/k/ab cd' }],
    [`Include '${include}'\n`, 'alpha', { port: '2001' }],
    ['Host alpha\n  =\n  HostName 198.51.100.5\n', 'alpha', { hostname: '198.51.100.5' }],
    ['Host alpha =beta\n  Port 2001\n', 'beta', { port: '22' }],
    ['Host alpha =beta\n  Port 2001\n', 'alpha', { port: '2001' }],
    ['Host alpha\n  UserKnownHostsFile /tmp/kh=1\n', 'alpha', { userknownhostsfile: '/tmp/kh=1' }],
    ['Host alpha\r  Port 2001\r\n', 'alpha', { port: '22' }],
    ['Host alpha\0 beta\n  Port 2001\n', 'alpha', { port: '2001' }],
    ['Host alpha\0 beta\n  Port 2001\n', 'beta', { port: '22' }],
    ['Host alpha\n  "Port" 2001\n', 'alpha', { port: '2001' }],
    ['Host #disabled\n  Port 2001\n', 'alpha', { port: '22' }],
    ['Host alpha\n  User me#x # a comment\n', 'alpha', { user: 'me#x' }],
    ['Match host "alpha"\n  Port 2001\n', 'alpha', { port: '2001' }],
    // ssh counts files only where it takes them.
    [`Host other\n  UserKnownHostsFile ${Array.from({ length: 33 }, (_, i) => `/tmp/kh${i}`).join(' ')}\nHost alpha\n  UserKnownHostsFile /tmp/kh\n`, 'alpha', { userknownhostsfile: '/tmp/kh' }],
    ['Host alpha\n  IdentityFile "/tmp/a b"\n', 'alpha', { identityfile: '/tmp/a b' }],
    // A HostName read in the second reading never wins: ssh has fixed the name by then.
    ['Match final\n  HostName 198.51.100.77\n', 'alpha', { hostname: 'alpha' }],
    ['CanonicalizeHostname yes\nMatch canonical host alpha\n  HostName 198.51.100.78\n  Port 2001\n', 'alpha', { hostname: 'alpha', port: '2001' }],
    ['Host alpha\n  HostName 198.51.100.5\nMatch final\n  HostName 198.51.100.77\n', 'alpha', { hostname: '198.51.100.5' }],
  ])('%j for %s', (text, host, expected) => {
    const file = configFile(text);
    for (const [keyword, value] of Object.entries(expected)) {
      expect(ssh(file, host, keyword), `ssh -G ${keyword}`).toBe(value);
      expect(lvsprov(file, host, keyword), `lvsprov ${keyword}`).toBe(value);
    }
  });

  it.each([
    ['Host alpha\n  User "x\n', 2, 8, 'this quote is not closed'],
    ['Host alpha\n  HostName: 198.51.100.7\n', 2, 3, 'bad configuration option "hostname:"'],
    ['Host alpha\n  Port\u00a022\n', 2, 3, '"Port\\u00a022" has no value after it'],
    ['\ufeffHost alpha\n', 1, 1, 'bad configuration option "\\ufeffhost"'],
    ['Host alpha\r\n  Port 2001\r  Port 0\r\n', 2, 8, 'Port must be'],
    ['Host other\n  IdentityFile a b\n', 2, 16, 'identityfile takes one value, not 2'],
    ['Host other\n  HostName a b\n', 2, 12, 'hostname takes one value, not 2'],
    ['Host other\n  UserKnownHostsFile none /tmp/kh\n', 2, 22, 'userknownhostsfile none must stand alone'],
    ['Host other\n  GlobalKnownHostsFile /tmp/kh NONE\n', 2, 24, 'globalknownhostsfile none must stand alone'],
    [`Host alpha\n  UserKnownHostsFile ${Array.from({ length: 33 }, (_, i) => `/tmp/kh${i}`).join(' ')}\n`, 2, 22, 'more than 32 userknownhostsfile files'],
    [`Host alpha\n${Array.from({ length: 101 }, (_, i) => `  IdentityFile /tmp/id${i}\n`).join('')}`, 102, 16, 'more than 100 identityfile files'],
  ])('refuses %j at its line and column, as ssh refuses the file', (text, line, col, message) => {
    const file = configFile(text);
    expect(spawnSync('ssh', ['-G', '-F', file, 'alpha']).status).toBe(255);
    expect(() => resolveSshConfig(file, { host: 'alpha' })).toThrow(`${file}:${line}:${col}: ${message}`);
  });
});
