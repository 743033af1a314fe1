import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/config/connection.js';
import { loadInventory } from '../../src/config/inventory.js';
import { runCli } from '../support/cli.js';

// ssh_config keywords ssh would apply and lvsprov does not: refused at their line when ignoring
// them would trust a host key ssh would not, said on stderr otherwise; never dropped in silence.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-ssh-unsupported-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

function files(configLines: string[], address = 't'): { config: string; inventory: string } {
  const config = join(dir, `config-${++count}`);
  writeFileSync(config, `${configLines.join('\n')}\n`);
  const inventory = join(dir, `inventory-${count}.yaml`);
  writeFileSync(inventory, stringify({ ssh: { agent: false, config_file: config }, hosts: { h: { address } } }));
  return { config, inventory };
}
const resolve = (configLines: string[]): ReturnType<typeof resolveConnection> => resolveConnection(loadInventory(files(configLines).inventory), 'h', { env: {} });

describe('ssh_config keywords lvsprov does not apply', () => {
  it('refuses RevokedHostKeys and KnownHostsCommand at their line, for the host and for a jump host', () => {
    expect(() => resolve(['Host t', '  RevokedHostKeys ~/.ssh/revoked_keys'])).toThrow(/config-\d+:2:3: RevokedHostKeys is not supported by lvsprov, which would accept a key revoked there/);
    expect(() => resolve(['Host t', '  ProxyJump j', 'Host j', '  KnownHostsCommand /usr/local/bin/keys %H'])).toThrow(/config-\d+:4:3: KnownHostsCommand is not supported .*\(for jump host j\)/);
    expect(() => resolve(['Host t', '  KnownHostsCommand none'])).not.toThrow();
  });

  it('names every other one it leaves out, with its line, and says nothing of values that change nothing', () => {
    const resolved = resolve(['Host t', '  AddressFamily any', '  CanonicalizeHostname no', '  CheckHostIP no', '  ProxyJump j', 'Host *', '  Ciphers aes256-gcm@openssh.com', '  CertificateFile ~/.ssh/id_ed25519-cert.pub', '  CheckHostIP yes']);
    expect(resolved.ignored).toEqual([
      expect.stringMatching(/config-\d+:7 \(Host \*\): Ciphers aes256-gcm@openssh\.com is not applied by lvsprov \(ssh would\)$/),
      expect.stringMatching(/^jump host j: .*config-\d+:7 \(Host \*\): Ciphers/),
    ]);
  });

  it('names PubkeyAuthentication no and a PreferredAuthentications without publickey: ssh would offer no key where lvsprov logs in with one', () => {
    expect(resolve(['Host t', '  PubkeyAuthentication no']).ignored).toEqual([expect.stringMatching(/config-\d+:2 \(Host t\): PubkeyAuthentication no is not applied by lvsprov \(ssh would\)/)]);
    expect(resolve(['Host t', '  PreferredAuthentications keyboard-interactive,password']).ignored).toEqual([
      expect.stringMatching(/config-\d+:2 \(Host t\): PreferredAuthentications keyboard-interactive,password is not applied by lvsprov \(ssh would\)/),
    ]);
    // Values under which ssh still offers the keys: nothing to say.
    expect(resolve(['Host t', '  PubkeyAuthentication yes', '  PreferredAuthentications password,publickey']).ignored).toEqual([]);
    expect(resolve(['Host t', '  PubkeyAuthentication unbound']).ignored).toEqual([]);
  });

  it('sends user certificates: CertificateFile (the files that exist) for the host and a jump host, KEY-cert.pub beside a key left to the transport', () => {
    const key = join(dir, 'id_cert');
    writeFileSync(key, 'not read here');
    writeFileSync(`${key}-cert.pub`, 'not read here');
    const apart = join(dir, 'apart-cert.pub');
    writeFileSync(apart, 'not read here');
    const resolved = resolve(['Host t', `  IdentityFile ${key}`, `  CertificateFile ${apart}`, `  CertificateFile ${join(dir, 'missing-cert.pub')}`, '  ProxyJump j', 'Host j', `  IdentityFile ${key}`]);
    expect(resolved.ignored).toEqual([]);
    expect(resolved.target.certificateFiles).toEqual([apart]);
    expect(resolved.origins.certificate_files).toMatch(/config-\d+:3 \(Host t\)/);
    // The jump host signs with its own key file and has no CertificateFile: KEY-cert.pub beside it.
    expect(resolved.target.jumps[0]?.certificateFiles).toBeUndefined();
    expect(resolve(['Host t', `  IdentityFile ${key}`]).target.certificateFiles).toBeUndefined();
  });

  it('shows the certificates in lvsprov ssh-config: CertificateFile with its line, else KEY-cert.pub beside a key', async () => {
    const key = join(dir, 'id_shown');
    writeFileSync(key, 'not read here');
    writeFileSync(`${key}-cert.pub`, 'not read here');
    const beside = await runCli(['ssh-config', '-i', files(['Host t', `  IdentityFile ${key}`]).inventory]);
    expect(beside.stdout).toMatch(new RegExp(`certificatefile +${key}-cert\\.pub +# beside ${key}, as ssh loads it`));
    const apart = join(dir, 'shown-apart-cert.pub');
    writeFileSync(apart, 'not read here');
    const named = await runCli(['ssh-config', '-i', files(['Host t', `  IdentityFile ${key}`, `  CertificateFile ${apart}`]).inventory]);
    expect(named.stdout.match(/^ +certificatefile .*$/gm)).toEqual([expect.stringMatching(new RegExp(`certificatefile +${apart} +# \\S+config-\\d+:3 \\(Host t\\)`))]);
  });

  it('ssh-config shows CheckHostIP as it applies: the line that set it, the default, or off behind a jump host', async () => {
    const shown = async (lines: string[]): Promise<string> => (await runCli(['ssh-config', '-i', files(lines).inventory])).stdout.match(/^ +checkhostip .*$/m)?.[0] ?? '';
    expect(await shown(['Host t', '  CheckHostIP yes'])).toMatch(/checkhostip +yes +# \S+config-\d+:2 \(Host t\)$/);
    expect(await shown(['Host t', '  User root'])).toMatch(/checkhostip +no +# default: no$/);
    expect(await shown(['Host t', '  ProxyJump j1', '  CheckHostIP yes'])).toMatch(/checkhostip +no +# \S+config-\d+:3 \(Host t\); off behind a jump host, as ssh$/);
  });

  it('applies CheckHostIP yes to a host and a first jump host reached straight, never behind a jump host', () => {
    const target = (lines: string[], address = 't') => resolveConnection(loadInventory(files(lines, address).inventory), 'h', { env: {} });
    expect(target(['Host *', '  CheckHostIP yes']).target.checkHostIp).toBe(true);
    expect(target(['Host *', '  CheckHostIP no']).target.checkHostIp).toBe(false);
    expect(target(['Host *', '  CheckHostIP yes']).ignored).toEqual([]);
    const jumped = target(['Host t', '  ProxyJump j1,j2', 'Host *', '  CheckHostIP yes']).target;
    expect([jumped.checkHostIp, ...jumped.jumps.map((jump) => jump.checkHostIp)]).toEqual([false, true, false]);
  });

  it('says CanonicalizeHostname only where ssh would change the name: CanonicalDomains (or no fallback) for a short name', () => {
    const notes = (lines: string[], address = 't'): readonly string[] => resolveConnection(loadInventory(files(lines, address).inventory), 'h', { env: {} }).ignored;
    // Without domains ssh changes nothing but the second reading of the files, which lvsprov does.
    expect(notes(['Host t', '  CanonicalizeHostname yes'])).toEqual([]);
    // An address, a name with more dots than CanonicalizeMaxDots, and `yes` behind a jump host are left as they are.
    expect(notes(['Host *', '  CanonicalizeHostname yes', '  CanonicalDomains example.net'], '192.0.2.7')).toEqual([]);
    expect(notes(['Host *', '  CanonicalizeHostname yes', '  CanonicalDomains example.net'], 'lvs1.dc1.example')).toEqual([]);
    expect(notes(['Host t', '  CanonicalizeHostname yes', '  CanonicalDomains example.net', '  ProxyJump 192.0.2.1'])).toEqual([]);
    expect(notes(['Host t', '  CanonicalizeHostname always', '  CanonicalDomains example.net corp.example', '  ProxyJump 192.0.2.1'])).toEqual([
      expect.stringMatching(/config-\d+:2 \(Host t\): CanonicalizeHostname always with CanonicalDomains example\.net corp\.example is not applied by lvsprov: it connects to t as written; ssh would try t\.example\.net, t\.corp\.example and connect to the first that resolves$/),
    ]);
    expect(notes(['Host t', '  CanonicalizeHostname yes', '  CanonicalizeFallbackLocal no'])).toEqual([expect.stringMatching(/it connects to t as written; ssh would stop \(no CanonicalDomains to try and CanonicalizeFallbackLocal no/)]);
    expect(spawnSync('ssh', ['-G', '-F', '/dev/null', '-o', 'CanonicalizeHostname=yes', '-o', 'CanonicalizeFallbackLocal=no', 't'], { encoding: 'utf8' }).stderr).toMatch(/Could not resolve host "t"/);
  });

  it('says them on stderr before a run, once each, leaving stdout to the report', async () => {
    const { inventory } = files(['Match exec "exit 0"', '  User nobody', 'Host *', '  KexAlgorithms curve25519-sha256'], '192.0.2.7');
    const playbook = join(dir, 'playbook.yaml');
    writeFileSync(playbook, stringify([{ hosts: 'all', tasks: [{ name: 'marker', file: { path: '/tmp/lvsprov-never-written', content: 'x' } }] }]));
    const result = await runCli(['apply', '-i', inventory, '-p', playbook, '--list-hosts']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/ssh_config/);
    expect(result.stderr.split('\n').filter((line) => line.startsWith('ssh_config: '))).toEqual([
      expect.stringMatching(/config-\d+:1: Match exec is not evaluated by lvsprov; the block is skipped$/),
      expect.stringMatching(/config-\d+:4 \(Host \*\): KexAlgorithms curve25519-sha256 is not applied by lvsprov/),
    ]);
  });

  it('says them for verify as for apply, before any host is contacted', async () => {
    // No host in group clients: verify stops before its first connection, after the notes.
    const { inventory } = files(['Host *', '  Ciphers aes256-gcm@openssh.com'], '192.0.2.7');
    const result = await runCli(['verify', '-i', inventory]);
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain('no host was contacted');
    expect(result.stderr.split('\n').filter((line) => line.startsWith('ssh_config: '))).toEqual([expect.stringMatching(/config-\d+:2 \(Host \*\): Ciphers aes256-gcm@openssh\.com is not applied by lvsprov/)]);
    const failover = await runCli(['verify', '--failover', '-i', inventory]);
    expect(failover.code, failover.stderr).toBe(4);
    expect(failover.stderr).toMatch(/^ssh_config: .*Ciphers aes256-gcm@openssh\.com is not applied/m);
  });
});
