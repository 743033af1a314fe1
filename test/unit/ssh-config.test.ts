import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir, hostname, tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJumpEntry, resolveConnection } from '../../src/config/connection.js';
import { loadInventory } from '../../src/config/inventory.js';
import { patternListMatches, resolveSshConfig } from '../../src/transport/ssh-config.js';
import { permissionProblem } from '../../src/transport/ssh-config-file.js';
import { tcpServices } from '../../src/transport/service-port.js';
import { cliPath } from '../support/cli.js';
import { runMain } from '../support/main-io.js';

// ssh_config read as ssh reads it: patterns, negation, first value wins, lists accumulate, Match,
// Include, %-tokens; then merged under the inventory with each value's origin.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-ssh-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const configFile = (lines: string[]): string => {
  const file = join(dir, `config-${++count}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
};
const values = (file: string, host: string) => Object.fromEntries([...resolveSshConfig(file, { host }).values].map(([key, value]) => [key, value.values]));

// The reference: OpenSSH's own reading of the same file (`ssh -G -F FILE HOST`), for a few keywords.
const compared = ['user', 'port', 'connecttimeout'] as const;
const sshG = (file: string, host: string): { status: number | null; values: Record<string, string> } => {
  const run = spawnSync('ssh', ['-G', '-F', file, host], { encoding: 'utf8', env: { ...process.env, USER: userInfo().username } });
  const lines = run.stdout.split('\n').map((line) => line.split(' '));
  return { status: run.status, values: Object.fromEntries(compared.map((keyword) => [keyword, lines.find(([key]) => key === keyword)?.slice(1).join(' ') ?? ''])) };
};
/** lvsprov's reading of the same, with ssh's defaults where nothing is set. */
const asSshG = (file: string, host: string): Record<string, string> => {
  const resolved = resolveSshConfig(file, { host }).values;
  const defaults: Record<string, string> = { user: userInfo().username, port: '22', connecttimeout: 'none' };
  return Object.fromEntries(compared.map((keyword) => [keyword, resolved.get(keyword)?.values[0] ?? defaults[keyword] ?? '']));
};

describe('ssh_config resolution', () => {
  it('matches patterns with * and ? (exactly one character), case-insensitively, and a negation rules the line out', () => {
    expect(patternListMatches(['web?'], 'web1')).toBe(true);
    expect(patternListMatches(['web?'], 'web')).toBe(false);
    expect(patternListMatches(['*.example.com', '!bad.example.com'], 'BAD.example.com')).toBe(false);
    expect(patternListMatches(['*.example.com', '!bad.example.com'], 'good.example.com')).toBe(true);
    expect(patternListMatches(['!only-negated'], 'anything')).toBe(false);
    // A comma in a Host line is part of the pattern (ssh -G -F FILE a: no match for `Host a,b`).
    const file = configFile(['Host a,b', '  Port 2207', 'Match host c,d', '  User listed']);
    expect(values(file, 'a')).toEqual({});
    expect(values(file, 'd')).toEqual({ user: ['listed'] });
  });

  it('takes the first value of each keyword, accumulates IdentityFile, and records file:line and the block', () => {
    const file = configFile(['User top', 'Host lvs*', '  HostName 192.0.2.5', '  IdentityFile ~/.ssh/a', 'Host *', '  User late', '  HostName ignored', '  IdentityFile ~/.ssh/b', '  Port 2200']);
    expect(values(file, 'lvs1')).toEqual({ user: ['top'], hostname: ['192.0.2.5'], identityfile: ['~/.ssh/a', '~/.ssh/b'], port: ['2200'] });
    const resolved = resolveSshConfig(file, { host: 'lvs1' });
    expect(resolved.values.get('hostname')?.origin).toBe(`${file}:3 (Host lvs*)`);
    expect(resolved.values.get('user')?.origin).toBe(`${file}:1`);
    expect(values(file, 'other')).toEqual({ user: ['top'], hostname: ['ignored'], identityfile: ['~/.ssh/b'], port: ['2200'] });
  });

  it('evaluates Match host, originalhost, user and all; skips Match exec without running it', () => {
    const file = configFile(['Host alias', '  HostName 192.0.2.9', 'Match host 192.0.2.* user root', '  Port 2201', 'Match exec "touch /tmp/lvsprov-must-not-exist"', '  Port 1', 'Match originalhost alias', '  User fromalias', 'Match all', '  ConnectTimeout 7']);
    const resolved = resolveSshConfig(file, { host: 'alias', user: 'root' });
    expect(Object.fromEntries([...resolved.values].map(([key, value]) => [key, value.values]))).toEqual({ hostname: ['192.0.2.9'], port: ['2201'], user: ['fromalias'], connecttimeout: ['7'] });
    expect(resolved.ignored).toEqual([`${file}:5: Match exec is not evaluated by lvsprov; the block is skipped`]);
  });

  it('refuses a keyword ssh does not know at its line, in a block that applies or not, unless an IgnoreUnknown read before it names it, as ssh -G does', () => {
    const typo = configFile(['Host other', '  Hostnme 192.0.2.9', 'Host web1', '  Port 2401']);
    expect(() => resolveSshConfig(typo, { host: 'web1' })).toThrow(new RegExp(`^${typo}:2:3: bad configuration option hostnme \\(did you mean hostname\\?\\): ssh refuses this file too`));
    expect(spawnSync('ssh', ['-G', '-F', typo, 'web1'], { encoding: 'utf8' }).stderr).toMatch(/line 2: Bad configuration option: hostnme/);
    const ignored = configFile(['IgnoreUnknown UseKeychain,Foo*', 'Host web1', '  UseKeychain yes', '  FooBar 1', '  Port 2401']);
    expect(values(ignored, 'web1')).toEqual({ ignoreunknown: ['UseKeychain,Foo*'], port: ['2401'] });
    expect(spawnSync('ssh', ['-G', '-F', ignored, 'web1'], { encoding: 'utf8' }).status).toBe(0);
    // In a file an Include names under a block that does not apply, too (ssh reads it for its checks alone).
    const included = configFile(['Hostnme 192.0.2.9']);
    const including = configFile(['Host other', `  Include ${included}`, 'Host web1', '  Port 2401']);
    expect(() => resolveSshConfig(including, { host: 'web1' })).toThrow(new RegExp(`^${included}:1:1: bad configuration option hostnme`));
    expect(spawnSync('ssh', ['-G', '-F', including, 'web1'], { encoding: 'utf8' }).stderr).toMatch(/line 1: Bad configuration option: hostnme/);
    const harmless = configFile(['Host other', `  Include ${configFile(['Host web1', '  Port 1'])}`, 'Host web1', '  Port 2401']);
    expect(values(harmless, 'web1')).toEqual({ port: ['2401'] });
    const late = configFile(['Host web1', '  UseKeychain yes', 'IgnoreUnknown UseKeychain']);
    expect(() => resolveSshConfig(late, { host: 'web1' })).toThrow(/:2:3: bad configuration option usekeychain/);
    expect(spawnSync('ssh', ['-G', '-F', late, 'web1'], { encoding: 'utf8' }).status).toBe(255);
  });

  it('says a Match exec block is skipped only where it would decide: not when another criterion of the line fails, before or after it', () => {
    const file = configFile(['Match exec "true" host mx', '  User execuser', 'Match host other exec "true"', '  User other', 'Match exec "true" !host mx', '  User notmx']);
    expect(resolveSshConfig(file, { host: 'mx' }).ignored).toEqual([`${file}:1: Match exec is not evaluated by lvsprov; the block is skipped`]);
    expect(resolveSshConfig(file, { host: 'web' }).ignored).toEqual([`${file}:5: Match exec is not evaluated by lvsprov; the block is skipped`]);
  });

  it('matches Host lines case-sensitively against the name as given, Match host and originalhost without case, as ssh -G does', () => {
    const file = configFile(['Host web1', '  Port 2401', 'Host *.EXAMPLE !BAD.example', '  Port 2402', 'Match originalhost WEB3', '  Port 2403']);
    expect(values(file, 'WEB1')).toEqual({});
    expect(values(file, 'web1')).toEqual({ port: ['2401'] });
    expect(values(file, 'x.EXAMPLE')).toEqual({ port: ['2402'] });
    expect(values(file, 'x.example')).toEqual({});
    expect(values(file, 'BAD.example')).toEqual({});
    expect(values(file, 'web3')).toEqual({ port: ['2403'] });
  });

  it('negates a Match criterion with a leading ! as ssh does (ssh -G applies `Match !host a2` to every host but a2)', () => {
    const file = configFile(['Match !host a2 !user nobody', '  User notA2', 'Host *', '  User other']);
    expect(values(file, 'a3')).toEqual({ user: ['notA2'] });
    expect(values(file, 'a2')).toEqual({ user: ['other'] });
    expect(resolveSshConfig(file, { host: 'a3', user: 'nobody' }).values.get('user')?.values).toEqual(['other']);
    expect(resolveSshConfig(file, { host: 'a3' }).ignored).toEqual([]);
  });

  it('matches Match host against the HostName so far with its %h expanded, as ssh -G does', () => {
    const file = configFile(['Host *.lan', '  HostName %h.example.com', 'Match host web1.lan.example.com', '  Port 2204']);
    expect(values(file, 'web1.lan')).toEqual({ hostname: ['%h.example.com'], port: ['2204'] });
  });

  it('reads the files again for `Match final` (and `canonical`) as ssh does, first values still winning, IdentityFile not repeated', () => {
    const file = configFile(['Match canonical host t1', '  User canon', 'Match final host t*', '  Port 2205', '  IdentityFile ~/.ssh/id_final', 'Host t1', '  User early', '  IdentityFile ~/.ssh/id_final']);
    // ssh -G -F FILE t1: user early, port 2205, one identityfile.
    expect(values(file, 't1')).toEqual({ port: ['2205'], identityfile: ['~/.ssh/id_final'], user: ['early'] });
    // Without a `Match final`, there is no second reading: `Match canonical` never applies.
    const canonicalOnly = configFile(['Match canonical host t1', '  User canon', 'Host t1', '  Port 2206']);
    expect(values(canonicalOnly, 't1')).toEqual({ port: ['2206'] });
  });

  it('lets a later ConnectTimeout or ServerAliveInterval replace `none`, which ssh stores as not set (ssh -G: 5 and 15)', () => {
    const file = configFile(['Host t1', '  ConnectTimeout none', '  ServerAliveInterval none', 'Host *', '  ConnectTimeout 5', '  ServerAliveInterval 15']);
    expect(asSshG(file, 't1')).toEqual(sshG(file, 't1').values);
    expect(values(file, 't1')).toEqual({ connecttimeout: ['5'], serveraliveinterval: ['15'] });
    expect(spawnSync('ssh', ['-G', '-F', file, 't1'], { encoding: 'utf8' }).stdout).toMatch(/^serveraliveinterval 15$/m);
  });

  it('reads the files again for a `Match final` in a file included under a block that does not apply, as ssh -G does', () => {
    // ssh evaluates the Match lines of such a file for its checks (SSHCONF_NEVERMATCH), and a `final` there asks for the second reading.
    // `Match canonical` applies in the second reading alone, which only the included file asks for.
    const included = configFile(['Match final', '  Port 2230']);
    const file = configFile(['Match canonical', `  Include ${included}`]);
    expect(sshG(file, 't1').values.port).toBe('2230');
    expect(asSshG(file, 't1')).toEqual(sshG(file, 't1').values);
  });

  it('matches Match user and localuser with case, as ssh -G does (host and originalhost without)', () => {
    const local = userInfo().username;
    const file = configFile(['Host t1', '  User Deploy', 'Match user deploy', '  Port 2231', `Match localuser ${local.toUpperCase()}`, '  ConnectTimeout 7', 'Match user Deploy', '  Port 2232']);
    expect(sshG(file, 't1').values).toEqual({ user: 'Deploy', port: '2232', connecttimeout: 'none' });
    expect(asSshG(file, 't1')).toEqual(sshG(file, 't1').values);
  });

  it('refuses a quote left open at the quote, as ssh refuses the line', () => {
    // ssh -G -F FILE t1: "line 1: invalid quotes".
    const file = configFile(['Host "t1', '  Port 1']);
    expect(sshG(file, 't1').status).not.toBe(0);
    expect(() => resolveSshConfig(file, { host: 't1' })).toThrow(new RegExp(`^${file}:1:6: this quote is not closed \\(ssh refuses the file too: "invalid quotes"\\)`));
  });

  it('reads `Match !final` and `Match !canonical` as ssh -G does: true in the first reading, which they ask to repeat', () => {
    const cases: [string[], string][] = [
      [['Match !final', '  User notfinal', 'Match final', '  Port 2212'], 't1'],
      [['Match !canonical host t1', '  ConnectTimeout 7', 'Match canonical', '  Port 2213'], 't1'],
      [['Match !canonical', '  Port 2214'], 't1'],
      [['Host t1', '  HostName 192.0.2.7', 'Match !final !host 192.0.2.7', '  Port 2215', 'Match !final host 192.0.2.7', '  User seven', 'Match final', '  ConnectTimeout 9'], 't1'],
    ];
    for (const [lines, host] of cases) {
      const file = configFile(lines);
      expect(asSshG(file, host), lines.join(' / ')).toEqual(sshG(file, host).values);
    }
  });

  it('matches Host lines against the HostName, lowercased, in the second reading, as ssh -G does (Match final or CanonicalizeHostname)', () => {
    const cases: [string[], string][] = [
      [['Host alias', '  HostName Real.Example', 'Host Real.Example', '  Port 2216', 'Host real.example', '  Port 2217', 'Match final'], 'alias'],
      [['Host alias', '  HostName %h.example', 'Host alias.example', '  User viafinal', 'Match final all'], 'alias'],
      [['Host web1', '  Port 2218', 'Match final'], 'WEB1'],
      [['Host web1', '  Port 2218'], 'WEB1'],
      [['Host alias', '  HostName real.example', '  CanonicalizeHostname yes', 'Match canonical', '  Port 2219', 'Host real.example', '  User canon'], 'alias'],
      [['Host alias', '  HostName real.example', '  CanonicalizeHostname no', 'Match canonical', '  Port 2219', 'Host real.example', '  User canon'], 'alias'],
    ];
    for (const [lines, host] of cases) {
      const file = configFile(lines);
      expect(asSshG(file, host), lines.join(' / ')).toEqual(sshG(file, host).values);
    }
  });

  it('refuses, at its line, a Match line ssh refuses, and reads `all` where ssh takes it', () => {
    for (const criteria of ['host', 'bogus x', 'all final', 'final canonical all', 'all host t1', 'user']) {
      const file = configFile(['Host t1', '  User u', `Match ${criteria}`, '  Port 2220']);
      expect(sshG(file, 't1').status, criteria).not.toBe(0);
      expect(() => resolveSshConfig(file, { host: 't1' }), criteria).toThrow(new RegExp(`^${file}:3:7: Bad Match condition`));
    }
    for (const criteria of ['host t1 all', 'host t2 all', 'final all', '!all', 'all # comment']) {
      const file = configFile([`Match ${criteria}`, '  Port 2221']);
      expect(asSshG(file, 't1'), criteria).toEqual(sshG(file, 't1').values);
    }
  });

  it('reads a # inside a word as part of the value and one that starts a word as a comment, as ssh -G does', () => {
    const file = configFile(['Host a', '  User me#x', '  IdentityFile ~/.ssh/id#1 # the first', '  HostKeyAlias "key #2"', '  ConnectTimeout 5 #seconds']);
    expect(values(file, 'a')).toMatchObject({ user: ['me#x'], identityfile: ['~/.ssh/id#1'], hostkeyalias: ['key #2'], connecttimeout: ['5'] });
    const reference = spawnSync('ssh', ['-G', '-F', file, 'a'], { encoding: 'utf8' }).stdout;
    expect(reference).toMatch(/^user me#x$/m);
    expect(reference).toMatch(/^connecttimeout 5$/m);
    // ssh refuses the file for `Port 2200#c` ("Bad port"), on any line, and so does lvsprov.
    const port = configFile(['Host a', '  User me', 'Host b', '  Port 2200#c']);
    expect(spawnSync('ssh', ['-G', '-F', port, 'a'], { encoding: 'utf8' }).stderr).toMatch(/line 4: Bad port '2200#c'/);
    expect(() => resolveSshConfig(port, { host: 'a' })).toThrow(/:4:\d+: .*2200#c/);
  });

  it('reads Include files (globs in the last component) where the Include stands', () => {
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', '10-a.conf'), 'Host inc\n  HostName 192.0.2.10\n');
    writeFileSync(join(dir, 'conf.d', '20-b.conf'), 'Host inc\n  HostName 192.0.2.20\n  User included\n');
    const file = configFile([`Include ${join(dir, 'conf.d', '*.conf')}`, 'Host inc', '  HostName 192.0.2.99']);
    expect(values(file, 'inc')).toEqual({ hostname: ['192.0.2.10'], user: ['included'] });
  });

  it('lists an Include pattern once per process, as each file is parsed once: every host of a run sees the same files', () => {
    const folder = join(dir, `listed-${++count}`);
    mkdirSync(folder);
    writeFileSync(join(folder, '10.conf'), 'Host once\n  Port 2310\n');
    const file = configFile([`Include ${join(folder, '*.conf')}`]);
    expect(values(file, 'once')).toEqual({ port: ['2310'] });
    writeFileSync(join(folder, '05.conf'), 'Host once\n  Port 2305\n');
    expect(values(file, 'once')).toEqual({ port: ['2310'] });
  });

  it('finds Include files as glob(3) does: wildcards in any folder, case-sensitive, no dot files (an editor swap file), sorted', () => {
    const base = join(dir, `glob-${++count}`);
    for (const folder of ['a', 'b', 'c']) mkdirSync(join(base, folder), { recursive: true });
    writeFileSync(join(base, 'a', 'conf'), 'Host g1\n  Port 2301\n');
    writeFileSync(join(base, 'b', 'conf'), 'Host g1\n  Port 2302\n  User fromb\n');
    writeFileSync(join(base, 'c', '.corp.conf.swp'), 'Host g1\n  User hidden\n');
    writeFileSync(join(base, 'c', 'UP.CONF'), 'Host g2\n  User upper\n');
    // ssh -G -F FILE g1: user fromb, port 2301; g2: user upper through `c/*` only.
    const file = configFile([`Include ${join(base, '*', 'conf')}`, `Include ${join(base, 'c', '*')}`, `Include ${join(base, 'c', '*.conf')}`]);
    expect(values(file, 'g1')).toEqual({ port: ['2301'], user: ['fromb'] });
    expect(values(file, 'g2')).toEqual({ user: ['upper'] });
    const classes = configFile([`Include ${join(base, 'c', '*.conf')}`, `Include ${join(base, '[b]', 'conf')}`]);
    expect(values(classes, 'g2')).toEqual({});
    expect(values(classes, 'g1')).toEqual({ port: ['2302'], user: ['fromb'] });
  });

  it('reads nothing from a folder an Include glob matches, as ssh reads past it, and still checks its permissions', () => {
    const base = join(dir, `include-dirs-${++count}`);
    mkdirSync(join(base, 'conf.d', 'sub'), { recursive: true });
    writeFileSync(join(base, 'conf.d', 'a.conf'), 'Host alpha\n  Port 2001\n');
    writeFileSync(join(base, 'conf.d', 'z.conf'), 'Host alpha\n  User zed\n');
    const file = configFile([`Include ${join(base, 'conf.d', '*')}`]);
    expect(sshG(file, 'alpha')).toEqual({ status: 0, values: expect.objectContaining({ port: '2001', user: 'zed' }) });
    expect(values(file, 'alpha')).toEqual({ port: ['2001'], user: ['zed'] });
    mkdirSync(join(base, 'open.d', 'sub'), { recursive: true, mode: 0o777 });
    chmodSync(join(base, 'open.d', 'sub'), 0o777);
    const open = configFile([`Include ${join(base, 'open.d', '*')}`]);
    expect(sshG(open, 'alpha').status).toBe(255);
    expect(() => values(open, 'alpha')).toThrow(`${join(base, 'open.d', 'sub')}:1:1: bad owner or permissions (writable by everyone)`);
  });

  it("finds an Include's ~ and relative paths in $HOME, as ssh's glob(3) does, ~user in that user's home, and refuses ~ in the system-wide file", () => {
    // Another home than the passwd entry's: ~/.ssh/config is read from the passwd home, Include paths from $HOME.
    const home = join(dir, `glob-home-${++count}`);
    mkdirSync(join(home, '.ssh', '~nobody'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'relative.conf'), 'Host alpha\n  Port 2551\n');
    writeFileSync(join(home, 'tilde.conf'), 'Host alpha\n  Port 2552\n');
    // Where a ~user read as a relative path would land: ssh's glob takes it for a user's home instead.
    writeFileSync(join(home, '.ssh', '~nobody', 'x.conf'), 'Host alpha\n  Port 2553\n');
    const env = { ...process.env, HOME: home, USER: userInfo().username };
    const ssh = (file: string): string | undefined =>
      spawnSync('ssh', ['-G', '-F', file, 'alpha'], { encoding: 'utf8', env }).stdout.split('\n').find((line) => line.startsWith('port '))?.slice(5);
    const lvsprov = (file: string): string | undefined => resolveSshConfig(file, { host: 'alpha' }, { globHome: home }).values.get('port')?.values[0];
    const cases: Array<[string, string | undefined]> = [
      ['Include relative.conf', '2551'],
      ['Include ~/tilde.conf', '2552'],
      ['Include ~nobody/x.conf', undefined],
      ['Include ~lvsprov-no-such-user/x.conf', undefined],
    ];
    for (const [line, port] of cases) {
      const file = configFile([line]);
      expect({ line, port: ssh(file) ?? undefined }).toEqual({ line, port: port ?? '22' });
      expect({ line, port: lvsprov(file) }).toEqual({ line, port });
    }
    // In /etc/ssh/ssh_config, ssh stops at a ~ in an Include (here in a mount namespace of the test's own).
    const system = join(dir, `system-tilde-${count}`);
    writeFileSync(system, 'Host *\n  Port 2203\nInclude ~/tilde.conf\n');
    const reference = spawnSync('unshare', ['--mount', 'sh', '-c', 'mount --bind "$1" /etc/ssh/ssh_config && exec ssh -G alpha', 'sh', system], { encoding: 'utf8', env });
    expect(reference.stderr).toContain('bad include path ~/tilde.conf');
    expect(reference.status).toBe(255);
    expect(() => resolveSshConfig(configFile(['Host beta']), { host: 'alpha' }, { systemFile: system, globHome: home })).toThrow(`${system}:3:9: bad include path ~/tilde.conf`);
  });

  it('reads ProxyJump entries as ssh does', () => {
    expect(parseJumpEntry('admin@bastion:2222', 'x')).toEqual({ host: 'bastion', user: 'admin', port: 2222, origin: 'x' });
    expect(parseJumpEntry('ssh://192.0.2.1', 'x')).toEqual({ host: '192.0.2.1', user: undefined, port: undefined, origin: 'x' });
  });

  it('refuses a ProxyJump with a blank between its entries at its line: ssh refuses `gw1, gw2` and reads `gw1 gw2` as gw1 alone, never a host named "gw1 gw2"', () => {
    for (const value of ['gw1, gw2', 'gw1 gw2', 'u@gw1 ,gw2']) {
      const file = configFile(['Host b', '  User x', 'Host a', `  ProxyJump ${value}`]);
      const reference = spawnSync('ssh', ['-G', '-F', file, 'a'], { encoding: 'utf8' });
      expect(reference.stdout).not.toMatch(new RegExp(`^proxyjump ${value}$`, 'm'));
      // On any line, as ssh reads every ProxyJump line: for host b too.
      expect(() => resolveSshConfig(file, { host: 'b' })).toThrow(/:4:13: ProxyJump .*separated by commas alone/);
    }
    expect(() => resolveSshConfig(configFile(['Host a', '  ProxyJump gw1,gw2  ']), { host: 'a' })).not.toThrow();
  });
});

describe('the connection: inventory > ssh_config > defaults', () => {
  const inventoryWith = (ssh: Record<string, unknown>, hostSsh?: Record<string, unknown>): ReturnType<typeof loadInventory> => {
    const file = join(dir, `inventory-${++count}.yaml`);
    writeFileSync(file, stringify({ ssh, hosts: { web: { address: 'webalias', ...(hostSsh ? { ssh: hostSsh } : {}) } } }));
    return loadInventory(file);
  };

  it('fills what the inventory leaves open from ssh_config, expands %-tokens, and keeps the inventory first', () => {
    const key = join(dir, 'id_test');
    writeFileSync(key, 'not read here');
    const file = configFile([
      'Host webalias',
      '  HostName 192.0.2.40',
      '  User deploy',
      '  Port 2202',
      `  IdentityFile ${join(dir, 'id_%r')}`,
      `  IdentityFile ${join(dir, 'id_missing')}`,
      `  UserKnownHostsFile ${join(dir, 'known_%h')}`,
      '  StrictHostKeyChecking accept-new',
      '  ConnectTimeout 4',
      '  ServerAliveInterval 7',
      '  ServerAliveCountMax 1',
      '  ProxyJump admin@bastion:2222,192.0.2.2',
      'Host bastion',
      '  ConnectTimeout 3',
      '  ServerAliveInterval 2',
    ]);
    const plain = resolveConnection(inventoryWith({ agent: false, config_file: file, user: 'test' }), 'web', { env: {} });
    expect(plain.target).toMatchObject({
      address: '192.0.2.40',
      user: 'test',
      port: 2202,
      privateKeys: [key],
      knownHostsFiles: [join(dir, 'known_192.0.2.40')],
      acceptNewHostKeys: true,
      connectTimeoutMs: 4000,
      serverAlive: { intervalMs: 7000, countMax: 1 },
    });
    // Each jump host waits as `ssh JUMP` would, by its own block, never the target's (ssh runs
    // `ssh -W ... JUMP` for it: ssh -G reads ConnectTimeout 3 for bastion, none for 192.0.2.2);
    // what its block leaves open is lvsprov's default.
    expect(sshG(file, 'bastion').values.connecttimeout).toBe('3');
    expect(sshG(file, '192.0.2.2').values.connecttimeout).toBe('none');
    expect(plain.target.jumps.map((jump) => [jump.connectTimeoutMs, jump.serverAlive])).toEqual([
      [3000, { intervalMs: 2000, countMax: 3 }],
      [10_000, { intervalMs: 10_000, countMax: 3 }],
    ]);
    expect(plain.origins.server_alive_interval).toBe(`${file}:10 (Host webalias)`);
    expect(plain.missingKeys).toEqual([join(dir, 'id_missing')]);
    expect(plain.origins.user).toMatch(/inventory-\d+\.yaml: ssh\.user$/);
    expect(plain.origins.port).toBe(`${file}:4 (Host webalias)`);
    expect(plain.target.jumps.map((jump) => [jump.user, jump.address, jump.port, jump.privateKeys])).toEqual([
      ['admin', 'bastion', 2222, [key]],
      [process.env.USER ?? 'root', '192.0.2.2', 22, [key]],
    ]);

    const hostWins = resolveConnection(inventoryWith({ agent: false, config_file: file, server_alive_count_max: 5 }, { port: 22, jump: { address: '192.0.2.3' }, server_alive_interval: 0 }), 'web', { env: {} });
    expect(hostWins.target.port).toBe(22);
    expect(hostWins.target.serverAlive).toEqual({ intervalMs: 0, countMax: 5 });
    expect(hostWins.origins.port).toMatch(/hosts\.web\.ssh\.port$/);
    expect(hostWins.target.jumps.map((jump) => jump.address)).toEqual(['192.0.2.3']);
    // The inventory's values serve the jump hosts too.
    expect(hostWins.target.jumps.map((jump) => jump.serverAlive)).toEqual([{ intervalMs: 0, countMax: 5 }]);

    const none = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {}, sshConfigFile: 'none' });
    expect(none.target).toMatchObject({ address: 'webalias', port: 22, jumps: [], serverAlive: { intervalMs: 10_000, countMax: 3 } });
  });

  it('IdentityFile none names no file, not ./none, and still leaves the default key files out, as ssh -G shows', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    mkdirSync(join(home, '.ssh'));
    writeFileSync(join(home, '.ssh', 'id_ed25519'), 'not read here');
    const cwd = process.cwd();
    const here = mkdtempSync(join(dir, 'cwd-'));
    writeFileSync(join(here, 'none'), 'not a key');
    const file = configFile(['Host webalias', '  IdentityFile none']);
    process.chdir(here);
    try {
      const resolved = resolveConnection(inventoryWith({ config_file: file }), 'web', { env: {}, home });
      expect([resolved.target.privateKeys, resolved.missingKeys, resolved.target.defaultKeyFiles]).toEqual([[], [], undefined]);
      expect(spawnSync('ssh', ['-G', '-F', file, 'webalias'], { encoding: 'utf8' }).stdout).toMatch(/^identityfile none$/m);
    } finally {
      process.chdir(cwd);
    }
  });

  it('expands %h %n %p %r in ProxyJump, as ssh does when it runs the jump, and refuses another token at its own column', () => {
    const file = configFile(['Host webalias', '  HostName 192.0.2.40', '  User deploy', '  Port 2202', '  ProxyJump %r@gw-%h.test:2200,%n-b']);
    const resolved = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} });
    expect(resolved.target.jumps.map((jump) => [jump.user, jump.address, jump.port])).toEqual([
      ['deploy', 'gw-192.0.2.40.test', 2200],
      [userInfo().username, 'webalias-b', 22],
    ]);
    const unknown = configFile(['Host webalias', '  ProxyJump gw-%d']);
    expect(() => resolveConnection(inventoryWith({ agent: false, config_file: unknown }), 'web', { env: {} })).toThrow(new RegExp(`^${unknown}:2:16: unknown %-token %d`));
  });

  it('refuses a ProxyJump port that is not a number as written, before tokens are expanded, as ssh 9.2 refuses the line ("Invalid ProxyJump")', () => {
    for (const [value, port] of [['%r@gw-%h:%p', '%p'], ['gw:0', '0'], ['a,gw:70000', '70000'], ['ssh://gw:x', 'x']] as const) {
      const file = configFile(['Host webalias', `  ProxyJump ${value}`]);
      expect(() => resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} })).toThrow(new RegExp(`^${file}:2:13: ProxyJump entry "[^"]+" has the port "${port}", not a number from 1 to 65535`));
      expect(spawnSync('ssh', ['-G', '-F', file, 'webalias'], { encoding: 'utf8' }).stderr).toMatch(/Invalid ProxyJump/);
    }
    // In a block that does not apply, too: ssh reads every ProxyJump line.
    const elsewhere = configFile(['Host other', '  ProxyJump gw:%p', 'Host webalias', '  Port 2201']);
    expect(() => resolveConnection(inventoryWith({ agent: false, config_file: elsewhere }), 'web', { env: {} })).toThrow(new RegExp(`^${elsewhere}:2:13: ProxyJump entry "gw:%p" has the port`));
    expect(spawnSync('ssh', ['-G', '-F', elsewhere, 'webalias'], { encoding: 'utf8' }).stderr).toMatch(/line 2: Invalid ProxyJump/);
    const empty = configFile(['Host webalias', '  ProxyJump @gw']);
    expect(() => resolveConnection(inventoryWith({ agent: false, config_file: empty }), 'web', { env: {} })).toThrow(/:2:13: ProxyJump entry "@gw" is not \[user@\]host\[:port\]/);
    // A `/` in the host or port refuses the entry (ssh -G: "Invalid ProxyJump"); in the user it does not.
    for (const [value, refused] of [['gw/22', true], ['ssh://gw/x', true], ['a/b:22', true], ['u/x@gw', false], ['ssh://gw/', false], ['ssh://u@gw:2222/', false], ['ssh://gw//', true], ['gw:22/', true]] as const) {
      const file = configFile(['Host other', `  ProxyJump ${value}`, 'Host webalias', '  Port 2201']);
      expect(spawnSync('ssh', ['-G', '-F', file, 'webalias'], { encoding: 'utf8' }).status, value).toBe(refused ? 255 : 0);
      const read = () => resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} });
      if (refused) expect(read, value).toThrow(new RegExp(`^${file}:2:13: ProxyJump entry "${value}" is not \\[user@\\]host\\[:port\\]`));
      else expect(read().target.port).toBe(2201);
    }
  });

  it('reads a ProxyJump entry as ssh 9.2 reaches it: quotes read, cut at #, a service name for a port', () => {
    const gw = ['Host gw', '  HostName 203.0.113.5'];
    for (const [value, expected] of [
      ["'gw'", [userInfo().username, '203.0.113.5', 22]],
      ["ju@'gw'", ['ju', '203.0.113.5', 22]],
      ['"j"u@g"w"', ['ju', '203.0.113.5', 22]],
      ['gw#primary', [userInfo().username, '203.0.113.5', 22]],
      ['gw:ssh', [userInfo().username, '203.0.113.5', 22]],
      ['ssh://ju;x=1@gw:2200', ['ju', '203.0.113.5', 2200]],
    ] as const) {
      const file = configFile(['Host webalias', `  ProxyJump ${value}`, ...gw]);
      expect(spawnSync('ssh', ['-G', '-F', file, 'webalias']).status, value).toBe(0);
      const jumps = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} }).target.jumps;
      expect(jumps.map((jump) => [jump.user, jump.address, jump.port]), value).toEqual([expected]);
    }
  });

  it('refuses, at the line, a ProxyJump host or user that a HostName or User could not be', () => {
    for (const [value, message] of [
      ['-oproxycommand=x', 'the jump host must be an IPv4 address or a host name'],
      ['010.1.1.1', 'the jump host must be an IPv4 address or a host name'],
      ['gw$x', 'the jump host must be an IPv4 address or a host name'],
      ["'g w'", 'has a blank inside it'],
      ['ssh://a%40b@gw', 'its user must be a user name'],
      ["'g,w'", 'is not one word once its quotes are read'],
    ] as const) {
      const file = configFile(['Host webalias', `  ProxyJump ${value}`]);
      expect(() => resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} }), value).toThrow(new RegExp(`^${file}:2:13: .*${message.replace(/[$]/g, '\\$&')}`));
    }
  });

  it("reads a jump host's own blocks for the user it is reached as, as `ssh -l USER JUMP` does (Match user)", () => {
    const file = configFile(['Host webalias', '  ProxyJump jumper@gw', 'Match originalhost gw user jumper', '  HostName 203.0.113.5', '  Port 2201', 'Match originalhost gw user ju', '  HostName 203.0.113.6', '  Port 2202']);
    const reference = spawnSync('ssh', ['-G', '-F', file, '-l', 'jumper', 'gw'], { encoding: 'utf8' }).stdout;
    expect(reference).toMatch(/^hostname 203\.0\.113\.5$/m);
    expect(reference).toMatch(/^port 2201$/m);
    const viaProxyJump = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} }).target.jumps;
    expect(viaProxyJump.map((jump) => [jump.user, jump.address, jump.port])).toEqual([['jumper', '203.0.113.5', 2201]]);
    // The inventory's ssh.jump, with its user, the same way.
    const viaInventory = resolveConnection(inventoryWith({ agent: false, config_file: file, jump: { address: 'gw', user: 'ju' } }), 'web', { env: {} }).target.jumps;
    expect(viaInventory.map((jump) => [jump.user, jump.address, jump.port])).toEqual([['ju', '203.0.113.6', 2202]]);
  });

  it("expands the tokens of a jump host's own ProxyJump with that jump host's values, as the ssh that reaches it does", () => {
    // ssh -v -F FILE webalias: `exec ssh -F FILE -W '[192.0.2.40]:22' a`, then for a:
    // `exec ssh -l u1 -p 2299 -F FILE -W '[192.0.2.7]:2201' gw2201-a` (a's user, port, name, HostName).
    const file = configFile([
      'Host webalias',
      '  HostName 192.0.2.40',
      '  User deploy',
      '  ProxyJump a',
      'Host a',
      '  HostName 192.0.2.7',
      '  User u1',
      '  Port 2201',
      '  ProxyJump %r@gw%p-%n:2299,hop-%h.test',
      'Host gw*',
      '  HostName 192.0.2.9',
    ]);
    const resolved = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} });
    expect(resolved.target.jumps.map((jump) => [jump.user, jump.address, jump.port])).toEqual([
      ['u1', '192.0.2.9', 2299],
      [userInfo().username, 'hop-192.0.2.7.test', 22],
      ['u1', '192.0.2.7', 2201],
    ]);
    const unknown = configFile(['Host webalias', '  ProxyJump a', 'Host a', '  ProxyJump gw-%d']);
    expect(() => resolveConnection(inventoryWith({ agent: false, config_file: unknown }), 'web', { env: {} })).toThrow(new RegExp(`^${unknown}:4:16: unknown %-token %d`));
  });

  it("gives the host its HostKeyAlias and each jump host its own alias or none, never the host's", () => {
    const file = configFile(['Host webalias', '  HostName 192.0.2.40', '  HostKeyAlias web-key', '  ProxyJump bastion,192.0.2.2', 'Host bastion', '  HostKeyAlias bastion-key']);
    const resolved = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} });
    expect(resolved.target.hostKeyAlias).toBe('web-key');
    expect(resolved.target.jumps.map((jump) => [jump.address, jump.hostKeyAlias])).toEqual([
      ['bastion', 'bastion-key'],
      ['192.0.2.2', undefined],
    ]);
  });

  it('lowercases the name it reaches and the HostKeyAlias after reading the config, %h and %k with them, as ssh -G does', () => {
    const file = configFile([
      'Host WebAlias',
      '  HostName Dir.%h.Example',
      '  HostKeyAlias Web-Key',
      `  UserKnownHostsFile ${join(dir, 'kh-%h-%k')}`,
      '  ProxyJump Gw',
      'Host Gw',
      '  HostName Gate.Example',
      '  HostKeyAlias Gate-Key',
    ]);
    const inventory = join(dir, `inventory-${++count}.yaml`);
    writeFileSync(inventory, stringify({ ssh: { agent: false, config_file: file }, hosts: { web: { address: 'WebAlias' } } }));
    const resolved = resolveConnection(loadInventory(inventory), 'web', { env: {} });
    const reference = spawnSync('ssh', ['-G', '-F', file, 'WebAlias'], { encoding: 'utf8' }).stdout;
    const said = (keyword: string): string | undefined => reference.split('\n').find((line) => line.startsWith(`${keyword} `))?.slice(keyword.length + 1);
    expect([resolved.target.address, resolved.target.hostKeyAlias, resolved.target.knownHostsFiles.join(' ')]).toEqual([said('hostname'), said('hostkeyalias'), said('userknownhostsfile')]);
    expect(resolved.target.address).toBe('dir.webalias.example');
    // The jump host is reached by an ssh of its own, which lowercases the same way (ssh -G Gw).
    expect(resolved.target.jumps.map((jump) => [jump.address, jump.hostKeyAlias])).toEqual([['gate.example', 'gate-key']]);
  });

  it('reads the system-wide file after ~/.ssh/config unless a file is named, its Includes relative to its folder', () => {
    const etc = join(dir, `etc-${++count}`);
    mkdirSync(join(etc, 'ssh_config.d'), { recursive: true });
    writeFileSync(join(etc, 'ssh_config.d', 'corp.conf'), 'Host webalias\n  HostName 192.0.2.44\n  ProxyJump 192.0.2.1\n');
    const system = join(etc, 'ssh_config');
    writeFileSync(system, 'Include ssh_config.d/*.conf\nHost *\n  User corp\n  Port 2203\n');
    const user = configFile(['Host webalias', '  User mine']);
    const inventory = inventoryWith({ agent: false, config_file: undefined });
    // ~/.ssh/config is the user's file when none is named: the home given holds it.
    const home = join(dir, `home-${count}`);
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'config'), readFileSync(user));
    {
      const both = resolveConnection(inventory, 'web', { env: {}, systemSshConfigFile: system, home });
      expect(both.target).toMatchObject({ address: '192.0.2.44', user: 'mine', port: 2203 });
      expect(both.target.jumps.map((jump) => jump.address)).toEqual(['192.0.2.1']);
      expect(both.sshConfigFiles).toEqual([join(home, '.ssh', 'config'), system]);
      expect(both.origins.port).toBe(`${system}:4 (Host *)`);
      // -F names the one file read, as with ssh -F.
      const named = resolveConnection(inventory, 'web', { env: {}, systemSshConfigFile: system, sshConfigFile: user, home });
      expect(named.target).toMatchObject({ address: 'webalias', user: 'mine', port: 22, jumps: [] });
      expect(named.sshConfigFiles).toEqual([user]);
    }
  });

  it("hashes recorded host names as HashKnownHosts says, the user's `no` winning over the system's `yes` (Debian's), ssh's default no", () => {
    const system = join(dir, `hash-system-${++count}`);
    writeFileSync(system, 'Host *\n  HashKnownHosts yes\n');
    {
      const inventory = inventoryWith({ agent: false });
      // A home of its own per case: a file is read once a run.
      const hashed = (userConfig: string): boolean | undefined => {
        const home = join(dir, `hash-home-${++count}`);
        mkdirSync(join(home, '.ssh'), { recursive: true });
        writeFileSync(join(home, '.ssh', 'config'), userConfig);
        return resolveConnection(inventory, 'web', { env: {}, systemSshConfigFile: system, home }).target.hashKnownHosts;
      };
      expect(hashed('Host webalias\n  HashKnownHosts no\n')).toBe(false);
      expect(hashed('Host other\n  HashKnownHosts no\n')).toBe(true);
      expect(hashed('HashKnownHosts false\n')).toBe(false);
      // -F names the only file read: nothing says yes, so names are recorded as they are.
      expect(resolveConnection(inventory, 'web', { env: {}, systemSshConfigFile: system, sshConfigFile: configFile(['Host *', '  Port 22']) }).target.hashKnownHosts).toBe(false);
      expect(resolveConnection(inventory, 'web', { env: {}, sshConfigFile: 'none' }).target.hashKnownHosts).toBe(false);
    }
  });

  it('logs in as the local user by default, as ssh -G says, whatever $USER holds', () => {
    const file = configFile(['Host webalias', '  ProxyJump bastion']);
    const resolved = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: { USER: 'nobody' } });
    const ssh = spawnSync('ssh', ['-G', '-F', 'none', 'webalias'], { encoding: 'utf8', env: { ...process.env, USER: 'nobody', LOGNAME: 'nobody' } });
    const expected = /^user (\S+)$/m.exec(ssh.stdout)?.[1];
    expect(expected).toBe(userInfo().username);
    expect([resolved.target.user, ...resolved.target.jumps.map((jump) => jump.user)]).toEqual([expected, expected]);
  });

  it('reads true and false where ssh reads yes and no (StrictHostKeyChecking false, IdentitiesOnly true)', () => {
    const key = join(dir, 'id_spelling');
    writeFileSync(key, 'not read here');
    const file = configFile(['Host webalias', '  StrictHostKeyChecking false', '  IdentitiesOnly TRUE', `  IdentityFile ${key}`]);
    const resolved = resolveConnection(inventoryWith({ config_file: file }), 'web', { env: { SSH_AUTH_SOCK: '/tmp/agent.sock' } });
    // IdentitiesOnly keeps the agent for the identity file's own key alone.
    expect(resolved.target).toMatchObject({ acceptNewHostKeys: true, privateKeys: [key], agent: '/tmp/agent.sock', agentKeys: [key] });
  });

  it('IdentitiesOnly without an IdentityFile: the default key files, the agent for their keys alone, no agent without one', () => {
    const file = configFile(['Host webalias', '  IdentitiesOnly yes']);
    const home = join(dir, `identities-only-home-${count}`);
    mkdirSync(join(home, '.ssh'), { recursive: true });
    {
      const none = resolveConnection(inventoryWith({ config_file: file }), 'web', { env: { SSH_AUTH_SOCK: '/tmp/agent.sock' }, home });
      expect(none.target.privateKeys).toEqual([]);
      expect(none.target.agent).toBeUndefined();
      expect(none.origins.agent).toBe(`${file}:2 (Host webalias): IdentitiesOnly yes`);
      const rsa = join(home, '.ssh', 'id_rsa');
      writeFileSync(rsa, 'not read here');
      const one = resolveConnection(inventoryWith({ config_file: file }), 'web', { env: { SSH_AUTH_SOCK: '/tmp/agent.sock' }, home });
      expect(one.target).toMatchObject({ privateKeys: [rsa], agent: '/tmp/agent.sock', agentKeys: [rsa] });
      // Without IdentitiesOnly every key of the agent is offered, and the default files as well
      // (ssh -v: "Will attempt key: ... agent", then each ~/.ssh/id_* file).
      const plain = resolveConnection(inventoryWith({ config_file: configFile(['Host webalias', '  Port 22']) }), 'web', { env: { SSH_AUTH_SOCK: '/tmp/agent.sock' }, home });
      expect(plain.target.privateKeys).toEqual([rsa]);
      expect(plain.target.defaultKeyFiles).toBe(true);
      expect(plain.target.agent).toBe('/tmp/agent.sock');
      expect(plain.target.agentKeys).toBeUndefined();
    }
  });

  it('refuses, at the file, a config that cannot be read and an Include loop (never an internal error)', () => {
    expect(() => resolveConnection(inventoryWith({ agent: false }), 'web', { env: {}, sshConfigFile: dir })).toThrow(new RegExp(`^${dir}:1:1: cannot read this ssh config file: it is a folder \\(ssh would read it as an empty file`));
    const loop = join(dir, `loop-${++count}`);
    writeFileSync(loop, `Include ${loop}\n`);
    expect(() => resolveConnection(inventoryWith({ agent: false }), 'web', { env: {}, sshConfigFile: loop })).toThrow(new RegExp(`^${loop}:1:9: Include nested too deeply`));
  });

  it('follows 16 levels of Include, as ssh does, and refuses the 17th at its line', () => {
    const chain = (levels: number): string => {
      const files = Array.from({ length: levels + 1 }, () => join(dir, `nest-${++count}`));
      files.forEach((file, index) => writeFileSync(file, index < levels ? `Include ${files[index + 1]}\n` : 'Host alpha\n  Port 2001\n'));
      return files[0] as string;
    };
    const deep = chain(16);
    expect(sshG(deep, 'alpha').values.port).toBe('2001');
    expect(values(deep, 'alpha')).toEqual({ port: ['2001'] });
    const tooDeep = chain(17);
    expect(sshG(tooDeep, 'alpha').status).toBe(255);
    expect(() => values(tooDeep, 'alpha')).toThrow(/:1:9: Include nested too deeply \(more than 16 levels/);
  });

  it('reads /dev/null as no config, and refuses another device or a FIFO at the file instead of reading it forever', () => {
    expect(resolveConnection(inventoryWith({ agent: false }), 'web', { env: {}, sshConfigFile: '/dev/null' }).target.port).toBe(22);
    const fifo = join(dir, `fifo-${++count}`);
    execFileSync('mkfifo', [fifo]);
    for (const file of ['/dev/zero', fifo]) {
      expect(() => resolveConnection(inventoryWith({ agent: false }), 'web', { env: {}, sshConfigFile: file })).toThrow(new RegExp(`^${file}:1:1: cannot read this ssh config file: it is not a regular file`));
    }
    // Included, /dev/zero (writable by everyone) is refused before it is opened, as ssh refuses it.
    const including = configFile(['Include /dev/zero']);
    expect(() => resolveConnection(inventoryWith({ agent: false }), 'web', { env: {}, sshConfigFile: including })).toThrow(/^\/dev\/zero:1:1: bad owner or permissions/);
    const includingFifo = configFile([`Include ${fifo}`]);
    expect(() => resolveConnection(inventoryWith({ agent: false }), 'web', { env: {}, sshConfigFile: includingFifo })).toThrow(new RegExp(`^${fifo}:1:1: cannot read this ssh config file: it is not a regular file`));
  });

  it('refuses ~/.ssh/config, and any file an Include names (under -F too), when others could write it, as ssh does; a file named by -F is not checked', () => {
    const home = join(dir, `perm-home-${++count}`);
    mkdirSync(join(home, '.ssh'), { recursive: true });
    const config = join(home, '.ssh', 'config');
    const included = join(home, '.ssh', 'included.conf');
    writeFileSync(included, 'Host webalias\n  HostName 192.0.2.45\n');
    writeFileSync(config, `Include ${included}\n`);
    chmodSync(config, 0o644);
    chmodSync(included, 0o666);
    const system = join(dir, 'no-system-config');
    {
      const inventory = inventoryWith({ agent: false });
      expect(() => resolveConnection(inventory, 'web', { env: {}, systemSshConfigFile: system, home })).toThrow(new RegExp(`^${included}:1:1: bad owner or permissions \\(writable by everyone\\)`));
      // Named by -F, the file itself is read as it is, but what it includes is checked (ssh -F checks it too).
      expect(spawnSync('ssh', ['-G', '-F', config, 'webalias'], { encoding: 'utf8' }).stderr).toContain(`Bad owner or permissions on ${included}`);
      expect(() => resolveConnection(inventory, 'web', { env: {}, sshConfigFile: config })).toThrow(new RegExp(`^${included}:1:1: bad owner or permissions \\(writable by everyone\\)`));
      chmodSync(config, 0o666);
      chmodSync(included, 0o644);
      const unchecked = join(dir, `perm-unchecked-${++count}.conf`);
      writeFileSync(unchecked, 'Host webalias\n  HostName 192.0.2.47\n');
      chmodSync(unchecked, 0o666);
      expect(resolveConnection(inventory, 'web', { env: {}, sshConfigFile: unchecked }).target.address).toBe('192.0.2.47');
      // The system-wide file's Includes are checked too.
      const systemWide = configFile([`Include ${unchecked}`]);
      const bare = join(dir, `perm-home-${++count}`);
      expect(() => resolveConnection(inventory, 'web', { env: {}, systemSshConfigFile: systemWide, home: bare })).toThrow(new RegExp(`^${unchecked}:1:1: bad owner or permissions`));
      // ~/.ssh/config itself (each file is checked once a run: another home for this case).
      const other = join(dir, `perm-home-${++count}`);
      mkdirSync(join(other, '.ssh'), { recursive: true });
      writeFileSync(join(other, '.ssh', 'config'), 'Host webalias\n  User someone\n');
      chmodSync(join(other, '.ssh', 'config'), 0o602);
      expect(() => resolveConnection(inventory, 'web', { env: {}, systemSshConfigFile: system, home: other })).toThrow(/config:1:1: bad owner or permissions \(writable by everyone\); ssh refuses this file too/);
    }
    expect(permissionProblem({ uid: 1234, gid: 0, mode: 0o100644 }, 0, 0)).toBe('owned by uid 1234, neither you nor root');
    expect(permissionProblem({ uid: 0, gid: 50, mode: 0o100664 }, 1000, 1000)).toBe('writable by group 50');
    expect(permissionProblem({ uid: 1000, gid: 1000, mode: 0o100620 }, 1000, 1000)).toBeUndefined();
  });

  it('expands %k, %i, %l, %L and %C as ssh does, and refuses a token ssh does not know, at its own column', () => {
    const file = configFile(['Host webalias', '  HostName 192.0.2.46', '  HostKeyAlias web-key', `  UserKnownHostsFile ${join(dir, 'kh-%k')} ${join(dir, 'kh-%i-%L')}`, `  IdentityFile ${join(dir, 'id-%C')}`]);
    const resolved = resolveConnection(inventoryWith({ agent: false, config_file: file, user: 'op' }), 'web', { env: {} });
    const short = hostname().split('.')[0];
    expect(resolved.target.knownHostsFiles).toEqual([join(dir, 'kh-web-key'), join(dir, `kh-${process.getuid?.() ?? 0}-${short}`)]);
    const hash = createHash('sha1').update(`${hostname()}192.0.2.4622op`).digest('hex');
    expect(resolved.missingKeys).toEqual([join(dir, `id-${hash}`)]);
    // Without HostKeyAlias, %k is the name as given (the inventory's address).
    const plain = configFile(['Host webalias', '  HostName 192.0.2.46', `  UserKnownHostsFile ${join(dir, 'kh-%k')}`]);
    expect(resolveConnection(inventoryWith({ agent: false, config_file: plain }), 'web', { env: {} }).target.knownHostsFiles).toEqual([join(dir, 'kh-webalias')]);
    const unknown = configFile(['Host webalias', `  UserKnownHostsFile ${join(dir, 'kh-%Z')}`]);
    expect(() => resolveConnection(inventoryWith({ agent: false, config_file: unknown }), 'web', { env: {} })).toThrow(new RegExp(`^${unknown}:2:${22 + join(dir, 'kh-').length}: unknown %-token %Z`));
    const hostNameToken = configFile(['Host webalias', '  HostName %p.example']);
    expect(() => resolveConnection(inventoryWith({ agent: false, config_file: hostNameToken }), 'web', { env: {} })).toThrow(new RegExp(`^${hostNameToken}:2:12: unknown %-token %p`));
  });

  it('takes ~/.ssh/config, ~ and %d from the passwd entry\'s home whatever $HOME says, as ssh -G does', () => {
    // A $HOME elsewhere, with a config of its own that ssh does not read.
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(join(elsewhere, '.ssh'), { recursive: true });
    writeFileSync(join(elsewhere, '.ssh', 'config'), 'Host webalias\n  Port 2999\n');
    const file = configFile(['Host webalias', '  IdentityFile ~/.ssh/id_home', '  UserKnownHostsFile %d/kh ~/kh2']);
    const env = { ...process.env, HOME: elsewhere, USER: userInfo().username };
    const home = userInfo().homedir;
    const sshSays = (args: string[], keyword: string): string | undefined =>
      spawnSync('ssh', ['-G', ...args, 'webalias'], { encoding: 'utf8', env }).stdout.split('\n').find((line) => line.startsWith(`${keyword} `))?.slice(keyword.length + 1);
    expect(sshSays(['-F', file], 'userknownhostsfile')).toBe(`${home}/kh ${home}/kh2`);
    expect(sshSays([], 'port')).not.toBe('2999');
    const inventory = join(dir, `inventory-${++count}.yaml`);
    writeFileSync(inventory, stringify({ ssh: { agent: false }, hosts: { web: { address: 'webalias' } } }));
    const lvsprov = (args: string[]): string => execFileSync(process.execPath, [cliPath, 'ssh-config', '-i', inventory, ...args], { encoding: 'utf8', env });
    const shown = lvsprov(['-F', file]);
    expect(shown).toMatch(new RegExp(`^  userknownhostsfile +${home}/kh ${home}/kh2 `, 'm'));
    expect(shown).toMatch(new RegExp(`^  identityfile +${home}/\\.ssh/id_home \\(missing`, 'm'));
    const fromDefault = lvsprov([]);
    expect(fromDefault).toContain(`ssh_config ${join(home, '.ssh', 'config')}`);
    expect(fromDefault).not.toMatch(/^  port +2999/m);
  });

  it('takes a relative IdentityFile, UserKnownHostsFile or IdentityAgent from the current directory, as ssh opens them, and ~ from the home', () => {
    const file = configFile(['Host webalias', '  IdentityFile keys/id_rel', '  IdentityFile ~/id_home', '  UserKnownHostsFile known/hosts ~/known_home', '  IdentityAgent agent/sock']);
    const resolved = resolveConnection(inventoryWith({ config_file: file }), 'web', { env: {} });
    expect(resolved.missingKeys).toEqual([resolve(process.cwd(), 'keys/id_rel'), join(homedir(), 'id_home')]);
    expect(resolved.target.knownHostsFiles).toEqual([resolve(process.cwd(), 'known/hosts'), join(homedir(), 'known_home')]);
    expect(resolved.target.agent).toBe(resolve(process.cwd(), 'agent/sock'));
  });

  it('expands ${NAME} in IdentityFile, UserKnownHostsFile and IdentityAgent, once, and refuses one that is not set at its line, as ssh does', () => {
    const file = configFile(['Host webalias', '  IdentityFile ${KEYS}/id_%r', '  UserKnownHostsFile ${KNOWN}', '  IdentityAgent ${AGENT}']);
    const env = { KEYS: join(dir, 'k%h'), KNOWN: join(dir, 'known'), AGENT: join(dir, 'agent.sock') };
    const resolved = resolveConnection(inventoryWith({ config_file: file, user: 'op' }), 'web', { env });
    // The variable's value is taken as it is: its % is not a token (ssh expands both in one pass).
    expect(resolved.missingKeys).toEqual([join(dir, 'k%h', 'id_op')]);
    expect(resolved.target.knownHostsFiles).toEqual([join(dir, 'known')]);
    expect(resolved.target.agent).toBe(join(dir, 'agent.sock'));
    expect(() => resolveConnection(inventoryWith({ config_file: file }), 'web', { env: { KEYS: dir, KNOWN: dir } })).toThrow(new RegExp(`^${file}:4:17: environment variable AGENT in "\\$\\{AGENT\\}" is not set \\(ssh refuses it too\\)`));
    const unclosed = configFile(['Host webalias', '  IdentityFile ${KEYS/id']);
    expect(() => resolveConnection(inventoryWith({ config_file: unclosed }), 'web', { env: { KEYS: dir } })).toThrow(new RegExp(`^${unclosed}:2:16: invalid environment variable expansion`));
  });

  it('reads `IdentityAgent $NAME` as the socket that variable names, and no agent when it is not set, as ssh does', () => {
    const file = configFile(['Host webalias', '  IdentityAgent $MY_AGENT']);
    expect(resolveConnection(inventoryWith({ config_file: file }), 'web', { env: { MY_AGENT: '/tmp/my-agent.sock', SSH_AUTH_SOCK: '/tmp/other.sock' } }).target.agent).toBe('/tmp/my-agent.sock');
    expect(resolveConnection(inventoryWith({ config_file: file }), 'web', { env: { SSH_AUTH_SOCK: '/tmp/other.sock' } }).target.agent).toBeUndefined();
  });

  it('reads `-F none` in any case as no file, as ssh does', () => {
    for (const none of ['none', 'NONE', 'None']) {
      expect(spawnSync('ssh', ['-G', '-F', none, 'webalias']).status, none).toBe(0);
      expect(resolveConnection(inventoryWith({ agent: false }), 'web', { env: {}, sshConfigFile: none }).sshConfigFiles, none).toEqual([]);
    }
  });

  it("reads ~/.ssh/known_hosts and known_hosts2 by default, as ssh -G lists them, recording in the first", () => {
    const resolved = resolveConnection(inventoryWith({ agent: false }), 'web', { env: {}, sshConfigFile: 'none' });
    expect(resolved.target.knownHostsFiles).toEqual([join(homedir(), '.ssh', 'known_hosts'), join(homedir(), '.ssh', 'known_hosts2')]);
  });

  it('expands ~ and ~user in the paths as ssh does before it connects: no %-token or ${NAME} in a GlobalKnownHostsFile, ~ after ${NAME} in a UserKnownHostsFile alone', () => {
    const root = readFileSync('/etc/passwd', 'utf8').match(/^root:[^:]*:[^:]*:[^:]*:[^:]*:([^:]*):/m)?.[1] ?? '';
    const home = join(dir, `tilde-home-${++count}`);
    const cwd = process.cwd();
    const env = { HOME: '/elsewhere', TILDE: '~' };
    // `ssh -G` prints these before ssh expands ~ in the known_hosts files, so the reference is ssh.c's order itself.
    for (const [keyword, written, opened] of [
      ['GlobalKnownHostsFile', '~/trusted_hosts', join(home, 'trusted_hosts')],
      ['GlobalKnownHostsFile', '~root//gk', join(root, 'gk')],
      ['GlobalKnownHostsFile', '/etc/ssh/%h_keys', '/etc/ssh/%h_keys'],
      ['GlobalKnownHostsFile', '${HOME}/more_keys', join(cwd, '${HOME}/more_keys')],
      ['UserKnownHostsFile', '~root/kh', join(root, 'kh')],
      ['UserKnownHostsFile', '${TILDE}/kh', join(home, 'kh')],
      ['UserKnownHostsFile', '%d/kh-%h', join(home, 'kh-webalias')],
      ['IdentityFile', '~root/id_alpha', join(root, 'id_alpha')],
      ['IdentityFile', '${TILDE}/id', join(cwd, '~/id')],
    ] as const) {
      const file = configFile(['Host webalias', `  ${keyword} ${written}`]);
      const target = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env, home }).target;
      const got = { GlobalKnownHostsFile: target.globalKnownHostsFiles, UserKnownHostsFile: target.knownHostsFiles, IdentityFile: resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env, home }).missingKeys }[keyword];
      expect(got, `${keyword} ${written}`).toEqual([opened]);
    }
    // A user the password database lacks: ssh stops ("No such user"), lvsprov refuses the line.
    for (const keyword of ['UserKnownHostsFile', 'IdentityFile', 'GlobalKnownHostsFile', 'IdentityAgent']) {
      const file = configFile(['Host webalias', `  ${keyword} ~nosuchuser/x`]);
      expect(() => resolveConnection(inventoryWith({ config_file: file }), 'web', { env: { SSH_AUTH_SOCK: '/tmp/agent' }, home }), keyword).toThrow(new RegExp(`^${file}:2:${keyword.length + 4}: no user nosuchuser in the password database`));
    }
  });

  it("gives a jump host its own known_hosts files, as `ssh -G JUMP` lists them, never the host's UserKnownHostsFile", () => {
    const file = configFile([
      'Host webalias',
      `  UserKnownHostsFile ${join(dir, 'inner_known')}`,
      `  GlobalKnownHostsFile ${join(dir, 'inner_global')}`,
      '  ProxyJump bastion,gate',
      'Host gate',
      '  UserKnownHostsFile none',
      `  GlobalKnownHostsFile ${join(dir, 'gate_global')}`,
    ]);
    const listed = (host: string, keyword: string): string[] => {
      const line = spawnSync('ssh', ['-G', '-F', file, host], { encoding: 'utf8' }).stdout.split('\n').find((entry) => entry.startsWith(`${keyword} `)) ?? '';
      return line.split(' ').slice(1).filter((path) => path !== 'none').map((path) => path.replace(/^~\//, `${homedir()}/`));
    };
    const resolved = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} });
    expect(resolved.target.knownHostsFiles).toEqual(listed('webalias', 'userknownhostsfile'));
    expect(resolved.target.jumps.map((jump) => [jump.address, jump.knownHostsFiles, jump.globalKnownHostsFiles])).toEqual([
      ['bastion', listed('bastion', 'userknownhostsfile'), listed('bastion', 'globalknownhostsfile')],
      ['gate', [], listed('gate', 'globalknownhostsfile')],
    ]);
    expect(listed('bastion', 'userknownhostsfile')).toEqual([join(homedir(), '.ssh/known_hosts'), join(homedir(), '.ssh/known_hosts2')]);
    // The inventory's known_hosts still serves the jump hosts.
    const fromInventory = resolveConnection(inventoryWith({ agent: false, config_file: file, known_hosts: join(dir, 'inventory_known') }), 'web', { env: {} });
    expect(fromInventory.target.jumps.map((jump) => jump.knownHostsFiles)).toEqual([[join(dir, 'inventory_known')], [join(dir, 'inventory_known')]]);
  });

  it("gives a jump host whose only IdentityFile is none no key file at all, the host's neither, as the ssh that reaches it reads its block (ssh -G)", () => {
    const key = join(dir, 'id_web');
    writeFileSync(key, 'not read here');
    const lines = (jump: string[]): string => configFile(['Host webalias', `  IdentityFile ${key}`, '  ProxyJump bastion,192.0.2.2', 'Host bastion', ...jump]);
    const file = lines(['  IdentityFile none']);
    // ssh runs `ssh -W ... bastion` for the jump, which reads bastion's block alone.
    expect(spawnSync('ssh', ['-G', '-F', file, 'bastion'], { encoding: 'utf8' }).stdout).toMatch(/^identityfile none$/m);
    const agent = join(dir, 'agent.sock');
    const resolved = resolveConnection(inventoryWith({ config_file: file }), 'web', { env: { SSH_AUTH_SOCK: agent } });
    expect(resolved.target.privateKeys).toEqual([key]);
    // bastion: the agent's keys alone; 192.0.2.2 names no IdentityFile and takes the host's.
    expect(resolved.target.jumps.map((jump) => [jump.address, jump.privateKeys, jump.defaultKeyFiles, jump.agent])).toEqual([
      ['bastion', [], false, agent],
      ['192.0.2.2', [key], false, agent],
    ]);
    // With IdentitiesOnly yes there too, ssh offers bastion nothing, not even the agent's keys.
    const only = resolveConnection(inventoryWith({ config_file: lines(['  IdentityFile none', '  IdentitiesOnly yes']) }), 'web', { env: { SSH_AUTH_SOCK: agent } });
    expect(only.target.jumps.map((jump) => [jump.address, jump.privateKeys, jump.agent, jump.agentKeys])).toEqual([
      ['bastion', [], undefined, undefined],
      ['192.0.2.2', [key], agent, undefined],
    ]);
    // An IdentityFile that does not exist is skipped, as ssh skips it: bastion still has none.
    const missing = resolveConnection(inventoryWith({ agent: false, config_file: lines([`  IdentityFile ${join(dir, 'id_gone')}`]) }), 'web', { env: {} });
    expect(missing.target.jumps.map((jump) => jump.privateKeys)).toEqual([[], [key]]);
    // Its own IdentityAgent, as `ssh -G bastion` reads it: none, or another socket.
    const ownAgent = join(dir, 'bastion-agent.sock');
    for (const [line, expected] of [['  IdentityAgent none', undefined], [`  IdentityAgent ${ownAgent}`, ownAgent]] as const) {
      const withAgent = resolveConnection(inventoryWith({ config_file: lines(['  IdentityFile none', line]) }), 'web', { env: { SSH_AUTH_SOCK: agent } });
      expect(withAgent.target.jumps.map((jump) => [jump.address, jump.agent]), line).toEqual([
        ['bastion', expected],
        ['192.0.2.2', agent],
      ]);
      expect(withAgent.target.agent).toBe(agent);
    }
  });

  it("gives a jump host its own StrictHostKeyChecking, never the host's accept-new", () => {
    const file = configFile(['Host webalias', '  StrictHostKeyChecking accept-new', '  ProxyJump bastion,192.0.2.2', 'Host bastion', '  StrictHostKeyChecking no']);
    const resolved = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} });
    expect(resolved.target.acceptNewHostKeys).toBe(true);
    expect(resolved.target.jumps.map((jump) => [jump.address, jump.acceptNewHostKeys, jump.strictHostKeyChecking])).toEqual([
      ['bastion', true, 'no'],
      ['192.0.2.2', false, 'ask'],
    ]);
    expect(resolved.target.strictHostKeyChecking).toBe('accept-new');
  });

  it('reads StrictHostKeyChecking as ssh does, its synonyms included (off and false are no, true is yes), ask by default', () => {
    for (const [written, read] of [['off', 'no'], ['FALSE', 'no'], ['no', 'no'], ['true', 'yes'], ['yes', 'yes'], ['ask', 'ask'], ['Accept-New', 'accept-new']] as const) {
      const file = configFile(['Host webalias', `  StrictHostKeyChecking ${written}`]);
      expect(resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} }).target.strictHostKeyChecking).toBe(read);
    }
    expect(resolveConnection(inventoryWith({ agent: false, config_file: configFile(['Host other']) }), 'web', { env: {} }).target.strictHostKeyChecking).toBe('ask');
  });

  it('refuses a word a yes/no keyword does not take, at its value, in a block that applies or not, as ssh refuses the file ("unsupported option")', () => {
    const cases: Array<[string[], number, number, RegExp]> = [
      [['Host webalias', '  StrictHostKeyChecking maybe'], 2, 25, /StrictHostKeyChecking takes yes, no, ask, accept-new, off, true, false, not "maybe"/],
      [['Host other', '  CheckHostIP sure', 'Host webalias', '  Port 2200'], 2, 15, /CheckHostIP takes yes, no, true, false, not "sure"/],
      [['Host webalias', '  IdentitiesOnly=1'], 2, 18, /IdentitiesOnly takes yes, no, true, false, not "1"/],
      [['HashKnownHosts on'], 1, 16, /HashKnownHosts takes yes, no, true, false, not "on"/],
      [['Host webalias', '  CanonicalizeHostname sometimes'], 2, 24, /CanonicalizeHostname takes yes, no, true, false, always, not "sometimes"/],
    ];
    for (const [lines, line, col, message] of cases) {
      const file = configFile(lines);
      expect(() => resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} }), lines.join(' / ')).toThrow(new RegExp(`^${file}:${line}:${col}: ${message.source}`));
      const ssh = spawnSync('ssh', ['-G', '-F', file, 'webalias'], { encoding: 'utf8' });
      expect([ssh.status, ssh.stderr], lines.join(' / ')).toEqual([255, expect.stringMatching(new RegExp(`line ${line}: unsupported option`))]);
    }
    // The words ssh takes, in any case, are read as before.
    const file = configFile(['Host webalias', '  StrictHostKeyChecking Accept-New', '  CheckHostIP TRUE', '  IdentitiesOnly No', '  HashKnownHosts false']);
    const resolved = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} });
    expect([resolved.target.strictHostKeyChecking, resolved.target.checkHostIp, resolved.target.hashKnownHosts]).toEqual(['accept-new', true, false]);
    expect(spawnSync('ssh', ['-G', '-F', file, 'webalias'], { encoding: 'utf8' }).status).toBe(0);
  });

  it('refuses a port or a time ssh cannot read in a block that does not apply, as ssh refuses the file, and takes what ssh takes there', () => {
    for (const [lines, col, message] of [
      [['Host other', '  Port 0'], 8, /Port must be a whole number 1-65535 or a tcp service name in \/etc\/services, not "0"/],
      [['Host other', '  Port 70000'], 8, /Port must be a whole number 1-65535 or a tcp service name in \/etc\/services, not "70000"/],
      [['Host other', '  Port nosuchservice'], 8, /Port must be .*, not "nosuchservice"/],
      [['Host other', '  Port SSH'], 8, /Port must be .*, not "SSH"/],
      [['Host other', '  ConnectTimeout soon'], 18, /ConnectTimeout must be .*, not "soon"/],
      [['Host other', '  ServerAliveInterval -1'], 23, /ServerAliveInterval must be .*, not "-1"/],
      [['Host other', '  ServerAliveCountMax x'], 23, /ServerAliveCountMax must be a whole number 0-100, not "x"/],
    ] as const) {
      const file = configFile([...lines, 'Host webalias', '  User deploy']);
      expect(() => resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} }), lines.join(' / ')).toThrow(new RegExp(`^${file}:2:${col}: ${message.source}`));
      expect(spawnSync('ssh', ['-G', '-F', file, 'webalias'], { encoding: 'utf8' }).status, lines.join(' / ')).toBe(255);
    }
    // A service name, none, a time with units, a count above lvsprov's own limit: ssh reads them all there.
    const file = configFile(['Host other', '  Port ssh', '  ConnectTimeout none', '  ServerAliveInterval 1h30m', '  ServerAliveCountMax 500', 'Host webalias', '  Port 2200']);
    expect(spawnSync('ssh', ['-G', '-F', file, 'webalias'], { encoding: 'utf8' }).status).toBe(0);
    expect(resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} }).target.port).toBe(2200);
  });

  it('reads `ServerAliveInterval none` as not set, as ssh does: lvsprov keeps its own default, and says so', () => {
    const file = configFile(['Host webalias', '  ServerAliveInterval none']);
    expect(spawnSync('ssh', ['-G', '-F', file, 'webalias'], { encoding: 'utf8' }).stdout).toMatch(/^serveraliveinterval 0$/m);
    const resolved = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} });
    expect(resolved.target.serverAlive.intervalMs).toBe(10_000);
    expect(resolved.origins.server_alive_interval).toBe(`${file}:2 (Host webalias) (ServerAliveInterval none: not set in ssh; lvsprov's default)`);
  });

  it('reads a Port that is a tcp service name (or an alias) as ssh -G does, the port its number, and refuses a name the services database lacks', () => {
    // a2port(): a number as strtonum reads it, else getservbyname(name, "tcp"), case-sensitively.
    for (const [value, port] of [['ssh', 22], ['www', 80], ['http-alt', 8080], ['+2200', 2200], ['02201', 2201]] as const) {
      const file = configFile(['Host webalias', `  Port ${value}`]);
      expect(sshG(file, 'webalias'), value).toEqual({ status: 0, values: expect.objectContaining({ port: String(port) }) });
      const resolved = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} });
      expect(resolved.target.port, value).toBe(port);
      expect(resolved.origins.port).toBe(`${file}:2 (Host webalias)`);
    }
    for (const value of ['nosuchservice', 'SSH', '-0', '0x16']) {
      const file = configFile(['Host webalias', `  Port ${value}`]);
      expect(sshG(file, 'webalias').status, value).toBe(255);
      expect(() => resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} }), value).toThrow(new RegExp(`^${file}:2:8: Port must be a whole number 1-65535 or a tcp service name in /etc/services, not "${value}"`));
    }
    // A jump host's Port too.
    const jump = configFile(['Host webalias', '  ProxyJump bastion', 'Host bastion', '  HostName 192.0.2.20', '  Port ssh']);
    const resolved = resolveConnection(inventoryWith({ agent: false, config_file: jump }), 'web', { env: {} });
    expect(resolved.target.jumps.map((hop) => [hop.address, hop.port])).toEqual([['192.0.2.20', 22]]);
  });

  it('reads the services database as getservbyname does: tcp entries only, aliases, comments, the first entry winning', () => {
    const services = tcpServices(['# comment', 'ssh\t\t22/tcp\t# SSH', 'domain 53/udp', 'http 80/tcp www # web', 'http 8080/tcp', 'big 70000/tcp', '', 'alias-only 81/tcp ssh'].join('\n'));
    expect(Object.fromEntries(services)).toEqual({ ssh: 22, http: 80, www: 80, 'alias-only': 81 });
  });

  it('refuses an empty quoted value at its line where ssh -G refuses it ("Missing argument"), and reads a command given so where ssh does', () => {
    for (const line of ['  User ""', "  HostName ''", '  IdentityFile ""', '  Port=""', '  StrictHostKeyChecking ""', '  HostKeyAlias "" # none']) {
      for (const block of ['Host webalias', 'Host other']) {
        const file = configFile([block, line, 'Host webalias', '  User deploy']);
        expect(() => resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} }), `${block} / ${line}`).toThrow(new RegExp(`^${file}:2:\\d+: \\w+ has an empty value`));
        const ssh = spawnSync('ssh', ['-G', '-F', file, 'webalias'], { encoding: 'utf8' });
        expect([ssh.status, ssh.stderr], line).toEqual([255, expect.stringMatching(/line 2: (Missing|missing) argument/)]);
      }
    }
    // ssh reads these in a block that does not apply; the config reader failed on the first ("reading 'val'").
    const commands = configFile(['Host other', '  ProxyCommand ""', '  KnownHostsCommand ""', '  LocalCommand ""', 'Host webalias', '  Port 2200']);
    expect(spawnSync('ssh', ['-G', '-F', commands, 'webalias'], { encoding: 'utf8' }).status).toBe(0);
    expect(resolveConnection(inventoryWith({ agent: false, config_file: commands }), 'web', { env: {} }).target.port).toBe(2200);
  });

  it('refuses a keyword with no value at its line, where the line after it was read as its value and lost', () => {
    for (const [lines, line, col] of [
      [['Host webalias', '  CheckHostIP', '  Port 2200'], 2, 3],
      [['Host webalias', '  Port =', '  User deploy'], 2, 3],
      [['Host webalias', '  User # nobody', '  Port 2200'], 2, 3],
      [['Match', 'Host webalias'], 1, 1],
    ] as const) {
      const file = configFile([...lines]);
      expect(() => resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} }), lines.join(' / ')).toThrow(new RegExp(`^${file}:${line}:${col}: \\w+ has no value after it`));
      const ssh = spawnSync('ssh', ['-G', '-F', file, 'webalias'], { encoding: 'utf8' });
      expect([ssh.status, ssh.stderr], lines.join(' / ')).toEqual([255, expect.stringMatching(new RegExp(`line ${line}: (no argument after keyword|Missing argument)`))]);
    }
  });

  it('refuses a ServerAliveInterval or ServerAliveCountMax that is not a whole number in range, at its line', () => {
    // 1.5 is refused by ssh too ("invalid time value"); 5s and 1m30s are times ssh reads (below).
    const interval = configFile(['Host webalias', '  ServerAliveInterval 1.5']);
    expect(() => resolveConnection(inventoryWith({ config_file: interval }), 'web', { env: {} })).toThrow(new RegExp(`^${interval}:2:23: ServerAliveInterval must be a whole number of seconds 0-3600`));
    const tooLong = configFile(['Host webalias', '  ServerAliveInterval 2h']);
    expect(() => resolveConnection(inventoryWith({ config_file: tooLong }), 'web', { env: {} })).toThrow(new RegExp(`^${tooLong}:2:23: ServerAliveInterval must be .*, not "7200" \\("2h"\\)`));
    const count = configFile(['Host webalias', '  ServerAliveCountMax -1']);
    expect(() => resolveConnection(inventoryWith({ config_file: count }), 'web', { env: {} })).toThrow(new RegExp(`^${count}:2:23: ServerAliveCountMax must be a whole number 0-100`));
  });

  it("reads ConnectTimeout and ServerAliveInterval in ssh's time format, as ssh -G shows them", () => {
    const file = configFile(['Host webalias', '  ConnectTimeout 1m30s', '  ServerAliveInterval 2M']);
    expect(resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} }).target).toMatchObject({ connectTimeoutMs: 90_000, serverAlive: { intervalMs: 120_000 } });
    const plain = configFile(['Host webalias', '  ConnectTimeout 7', '  ServerAliveInterval 5s']);
    expect(resolveConnection(inventoryWith({ agent: false, config_file: plain }), 'web', { env: {} }).target).toMatchObject({ connectTimeoutMs: 7000, serverAlive: { intervalMs: 5000 } });
  });

  it('reads `ConnectTimeout 0` and `none`, which ssh -G accepts (no timeout of its own), as lvsprov\'s default, and refuses what ssh refuses', () => {
    for (const value of ['0', 'none', '0s']) {
      const file = configFile(['Host webalias', `  ConnectTimeout ${value}`, 'Host other', '  ConnectTimeout 3']);
      expect(sshG(file, 'webalias').status, value).toBe(0);
      const resolved = resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} });
      expect(resolved.target.connectTimeoutMs, value).toBe(10_000);
      expect(resolved.origins.connect_timeout).toBe(`${file}:2 (Host webalias) (ConnectTimeout ${value}: no timeout in ssh; lvsprov's default)`);
    }
    // 0 is a value obtained, the first winning; none is ssh's "not set", which a later line replaces (ssh -G: 0, then 3).
    for (const [value, seconds] of [['0', '0'], ['none', '3']] as const) {
      const file = configFile(['Host webalias', `  ConnectTimeout ${value}`, 'Host *', '  ConnectTimeout 3']);
      expect(sshG(file, 'webalias').values.connecttimeout, value).toBe(seconds);
      expect(asSshG(file, 'webalias').connecttimeout, value).toBe(seconds);
    }
    const bad = configFile(['Host webalias', '  ConnectTimeout soon']);
    expect(sshG(bad, 'webalias').status).not.toBe(0);
    expect(() => resolveConnection(inventoryWith({ agent: false, config_file: bad }), 'web', { env: {} })).toThrow(new RegExp(`^${bad}:2:18: ConnectTimeout must be`));
  });

  it("holds ConnectTimeout to the inventory's connect_timeout limit (600 s), and refuses on any line a time past INT_MAX seconds, as ssh does", () => {
    for (const [value, applies, sshReads] of [
      ['600', true, true],
      ['10m', true, true],
      ['+5', true, true],
      ['601', false, true],
      ['3600', false, true],
      // Past 2^31-1 ms: a Node timer of that length fires at once.
      ['2147484', false, true],
      ['2147483647', false, true],
      ['2147483648', false, false],
      ['99999999999', false, false],
      ['35792w', false, false],
    ] as const) {
      const file = configFile(['Host webalias', `  ConnectTimeout ${value}`]);
      expect(sshG(file, 'webalias').status === 0, value).toBe(sshReads);
      const read = () => resolveConnection(inventoryWith({ agent: false, config_file: file }), 'web', { env: {} }).target.connectTimeoutMs;
      if (applies) expect(read(), value).toBeLessThanOrEqual(600_000);
      else expect(read, value).toThrow(new RegExp(`^${file}:2:18: ConnectTimeout must be a whole number of seconds 0-600`));
      // ssh refuses the line in a block that does not apply too; lvsprov's own limit is for the value that applies.
      const elsewhere = configFile(['Host other', `  ConnectTimeout ${value}`]);
      const readElsewhere = () => resolveConnection(inventoryWith({ agent: false, config_file: elsewhere }), 'web', { env: {} });
      if (sshReads) expect(readElsewhere, value).not.toThrow();
      else expect(readElsewhere, value).toThrow(/ConnectTimeout must be .*\(ssh refuses the line too\)/);
    }
  });

  it('points at the value of a bad ssh_config value, however the keyword is separated from it', async () => {
    for (const [line, col] of [['  User -x', 8], ['User=-x', 6], ['  User = -x', 10], ['\tUser\t \t-x', 9]] as const) {
      const file = configFile(['Host *', line]);
      expect(() => resolveConnection(inventoryWith({ config_file: file }), 'web', { env: {} }), line).toThrow(new RegExp(`^${file}:2:${col}: User `));
    }
    const file = configFile(['Host *', '  Port 70000']);
    const inventory = join(dir, `inventory-${++count}.yaml`);
    writeFileSync(inventory, stringify({ ssh: { agent: false }, hosts: { web: { address: 'webalias' } } }));
    const result = await runMain(['ssh-config', '-i', inventory, '-F', file]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(new RegExp(`^${file}:2:8: Port must be a whole number 1-65535`, 'm'));
  });

  it('refuses ProxyCommand at its line: lvsprov runs no local command', () => {
    const file = configFile(['Host webalias', '  ProxyCommand nc %h %p']);
    expect(() => resolveConnection(inventoryWith({ config_file: file }), 'web', { env: {} })).toThrow(new RegExp(`^${file}:2:3: ProxyCommand .* is not supported by lvsprov`));
  });
});
