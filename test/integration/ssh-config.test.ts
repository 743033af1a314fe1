import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { cliPath, parseJson, runCli } from '../support/cli.js';
import { startAgent } from '../support/ssh-agent.js';

// OpenSSH's client config against real sshd: an alias only ~/.ssh/config knows, a ProxyJump chain
// of two jumps (with an agent, and with an encrypted key whose passphrase comes from the
// environment), a host known only through GlobalKnownHostsFile, StrictHostKeyChecking accept-new,
// and a @cert-authority line trusting a host's certificate.
//
// The chain is forced by routes: `inner` drops what it would send to the control side and to j1,
// `j2` drops what it would send to the control side, so inner is reachable only via j1 then j2.

const availability = labAvailability();
const PASSPHRASE = 'correct horse battery staple';

describe.skipIf(skipLabSuite(availability))(`ssh_config: aliases, ProxyJump chains, known_hosts files (${availability.reason})`, () => {
  let lab: Lab;
  let dir: string;
  let home: string;
  let encryptedKey: string;
  let agent: ChildProcess | undefined;
  const agentSocket = (): string => join(dir, 'agent.sock');
  const hostKey = (address: string): string => {
    const line = readFileSync(lab.knownHostsPath, 'utf8')
      .split('\n')
      .find((entry) => entry.split(/\s+/)[0]?.split(',').includes(address));
    if (!line) throw new Error(`no key for ${address} in the lab's known_hosts`);
    return line.split(/\s+/).slice(1, 3).join(' ');
  };

  const playbook = (): string => {
    const file = join(dir, 'touch.yaml');
    writeFileSync(file, stringify([{ hosts: 'all', tasks: [{ name: 'marker', file: { path: '/etc/lvsprov-sshconfig-test', content: '{{inventory_hostname}}\n' } }] }]));
    return file;
  };
  const inventory = (name: string, ssh: Record<string, unknown>, hosts: Record<string, unknown>): string => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, stringify({ ssh: { connect_timeout: 20, ...ssh }, hosts }));
    return file;
  };
  const sshConfig = (text: string): void => writeFileSync(join(home, '.ssh/config'), text);
  const lvsprov = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { namespace: lab.controlNamespace, env: { HOME: home, ...env } });
  const marker = async (host: string): Promise<string> => (await lab.exec(host, ['cat', '/etc/lvsprov-sshconfig-test'])).stdout;
  const clearMarkers = async (): Promise<void> => {
    for (const host of ['j1', 'j2', 'inner']) await lab.exec(host, ['rm', '-f', '/etc/lvsprov-sshconfig-test']);
  };

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-sshconfig-'));
    home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    lab = await createLab(
      {
        name: 'itsshc',
        subnets: [{ name: 'lan', cidr: '192.0.2.0/24', controlAddress: '192.0.2.254' }],
        hosts: [
          { name: 'j1', interfaces: [{ subnet: 'lan', address: '192.0.2.30' }] },
          { name: 'j2', interfaces: [{ subnet: 'lan', address: '192.0.2.31' }] },
          { name: 'inner', interfaces: [{ subnet: 'lan', address: '192.0.2.32' }] },
        ],
      },
      join(dir, 'lab'),
    );
    encryptedKey = join(dir, 'encrypted_ed25519');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'encrypted', '-f', encryptedKey], { stdio: 'ignore' });
    const publicKey = readFileSync(`${encryptedKey}.pub`, 'utf8');
    for (const host of ['j1', 'j2', 'inner']) {
      expect((await lab.exec(host, ['sh', '-c', 'cat >> /etc/lvsprov-lab/authorized_keys'], { input: publicKey })).code).toBe(0);
    }
    // The known_hosts file every case uses unless it says otherwise: the user's default one.
    copyFileSync(lab.knownHostsPath, join(home, '.ssh/known_hosts'));
    await lab.exec('inner', ['sh', '-c', 'ip route add blackhole 192.0.2.254/32 && ip route add blackhole 192.0.2.30/32']);
    await lab.exec('j2', ['ip', 'route', 'add', 'blackhole', '192.0.2.254/32']);
  });

  afterAll(async () => {
    if (agent?.pid) process.kill(agent.pid, 'SIGTERM');
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('reaches an alias only ~/.ssh/config knows, with its HostName, User, Port and IdentityFile, and shows where each came from', async () => {
    await clearMarkers();
    copyFileSync(lab.clientKeyPath, join(home, '.ssh/id_alias'));
    sshConfig(['Host lvsalias', '  HostName 192.0.2.30', '  User root', '  Port 22', '  IdentityFile ~/.ssh/id_alias', '', 'Host lvswrongport', '  HostName 192.0.2.30', '  Port 2222', '  User root', '  IdentityFile ~/.ssh/id_alias', ''].join('\n'));
    const file = inventory('alias', { agent: false }, { j1: { address: 'lvsalias' } });
    const result = await lvsprov(['apply', '-i', file, '-p', playbook(), '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await marker('j1')).toBe('j1\n');

    const shown = await lvsprov(['ssh-config', '-i', file, 'j1']);
    expect(shown.code, shown.stderr).toBe(0);
    // The home bound over the passwd entry's (test/support/cli.ts) is seen there, as ssh sees it.
    const seenHome = userInfo().homedir;
    const config = join(seenHome, '.ssh/config');
    expect(shown.stdout).toMatch(new RegExp(`hostname +192\\.0\\.2\\.30 +# ${config}:2 \\(Host lvsalias\\)`));
    expect(shown.stdout).toMatch(new RegExp(`user +root +# ${config}:3 \\(Host lvsalias\\)`));
    expect(shown.stdout).toMatch(new RegExp(`port +22 +# ${config}:4 \\(Host lvsalias\\)`));
    expect(shown.stdout).toMatch(new RegExp(`identityfile +${join(seenHome, '.ssh/id_alias')} +# ${config}:5 \\(Host lvsalias\\)`));

    // The inventory wins over ssh_config: its port replaces the alias's.
    const overridden = inventory('alias-port', { agent: false, port: 2222 }, { j1: { address: 'lvsalias' } });
    const refused = await lvsprov(['apply', '-i', overridden, '-p', playbook(), '--json']);
    expect(refused.code).toBe(3);
    expect(parseJson(refused).hosts[0]?.error?.message).toMatch(/root@192\.0\.2\.30:2222\b.*ECONNREFUSED/);
    // ssh_config's Port is used, too: nothing listens on j1's 2222.
    const wrongPort = await lvsprov(['apply', '-i', inventory('wrong-port', { agent: false }, { j2: { address: 'lvswrongport' } }), '-p', playbook(), '--json']);
    expect(wrongPort.code).toBe(3);
    expect(parseJson(wrongPort).hosts[0]?.error?.message).toMatch(/root@192\.0\.2\.30:2222\b.*ECONNREFUSED/);
  });

  it('takes a relative IdentityFile from the current directory and ${NAME} from the environment, where ssh itself finds them', async () => {
    await clearMarkers();
    const keys = join(dir, 'cwd-keys');
    mkdirSync(keys, { recursive: true });
    copyFileSync(lab.clientKeyPath, join(keys, 'id_rel'));
    chmodSync(join(keys, 'id_rel'), 0o600);
    sshConfig(['Host lvsrel', '  HostName 192.0.2.30', '  User root', '  IdentityFile id_rel', '', 'Host lvsenv', '  HostName 192.0.2.30', '  User root', '  IdentityFile ${LVSPROV_TEST_KEYS}/id_rel', ''].join('\n'));
    const relative = inventory('relative', { agent: false }, { j1: { address: 'lvsrel' } });
    const run = (file: string, cwd: string, env: NodeJS.ProcessEnv = {}) => runCli(['apply', '-i', file, '-p', playbook(), '--json'], { namespace: lab.controlNamespace, env: { HOME: home, ...env }, cwd });
    // OpenSSH's client with the same file: ~/.ssh/known_hosts named, ssh takes ~ from the passwd entry.
    const ssh = (host: string, cwd: string, env: NodeJS.ProcessEnv = {}) =>
      spawnSync('ip', ['netns', 'exec', lab.controlNamespace, 'ssh', '-F', join(home, '.ssh/config'), '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${join(home, '.ssh/known_hosts')}`, host, 'true'], {
        cwd,
        env: { ...process.env, SSH_AUTH_SOCK: '', ...env },
        encoding: 'utf8',
      }).status;
    const fromKeys = await run(relative, keys);
    expect(fromKeys.code, fromKeys.stdout + fromKeys.stderr).toBe(0);
    expect(await marker('j1')).toBe('j1\n');
    expect(ssh('lvsrel', keys)).toBe(0);
    // From another folder neither finds the key.
    expect((await run(relative, dir)).code).toBe(3);
    expect(ssh('lvsrel', dir)).not.toBe(0);

    const fromEnv = await run(inventory('env', { agent: false }, { j1: { address: 'lvsenv' } }), dir, { LVSPROV_TEST_KEYS: keys });
    expect(fromEnv.code, fromEnv.stdout + fromEnv.stderr).toBe(0);
    expect(ssh('lvsenv', dir, { LVSPROV_TEST_KEYS: keys })).toBe(0);
  });

  it('follows a ProxyJump chain of two jumps with the keys of an ssh-agent, over one connection per jump', async () => {
    await clearMarkers();
    agent = await startAgent(agentSocket(), [lab.clientKeyPath]);
    sshConfig(['Host inner', '  HostName 192.0.2.32', '  ProxyJump j1alias,root@192.0.2.31', '', 'Host j1alias', '  HostName 192.0.2.30', '', 'Host *', '  User root', ''].join('\n'));
    // Direct, inner is unreachable: the chain is what reaches it.
    const direct = inventory('direct', { agent: true, connect_timeout: 3 }, { inner: { address: '192.0.2.32' } });
    expect((await lvsprov(['apply', '-i', direct, '-p', playbook(), '-F', 'none', '--json'], { SSH_AUTH_SOCK: agentSocket() })).code).toBe(3);

    const file = inventory('chain-agent', { agent: true }, { inner: { address: 'inner' } });
    const result = await lvsprov(['apply', '-i', file, '-p', playbook(), '--json'], { SSH_AUTH_SOCK: agentSocket() });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const json = parseJson(result) as ReturnType<typeof parseJson> & { jumpConnections: number };
    expect(json.hosts.map((host) => [host.host, host.status, host.stats])).toEqual([['inner', 'changed', { connections: 1, channels: 1, execs: 2 }]]);
    expect(json.jumpConnections).toBe(2);
    expect(await marker('inner')).toBe('inner\n');

    const shown = await lvsprov(['ssh-config', '-i', file], { SSH_AUTH_SOCK: agentSocket() });
    expect(shown.stdout).toMatch(/proxyjump +root@192\.0\.2\.30:22,root@192\.0\.2\.31:22 +# .*config:3 \(Host inner\)/);
    expect(shown.stdout).toMatch(new RegExp(`jump host root@192\\.0\\.2\\.30:22: identityfile \\(none\\), identityagent ${agentSocket()}`));
  });

  it('follows the same chain with an encrypted key, its passphrase from the environment, for the jumps too', async () => {
    await clearMarkers();
    const file = inventory('chain-encrypted', { agent: false, private_key: encryptedKey, passphrase_env: 'LVSPROV_TEST_PASSPHRASE' }, { inner: { address: 'inner' } });
    const result = await lvsprov(['apply', '-i', file, '-p', playbook(), '--json'], { LVSPROV_TEST_PASSPHRASE: PASSPHRASE });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await marker('inner')).toBe('inner\n');
  });

  it('a host behind a jump host that no longer answers it is unreachable after its connect timeout, while the jump host still tries', async () => {
    // inner drops every packet (its link dead to the jump host): j1's sshd confirms the channel
    // only once its own connect is answered, and its kernel retries the SYN for about two minutes.
    sshConfig(['Host inner', '  HostName 192.0.2.32', '  ProxyJump j1alias', 'Host j1alias', '  HostName 192.0.2.30', 'Host *', '  User root', `  IdentityFile ${lab.clientKeyPath}`, ''].join('\n'));
    const drop = 'table inet lvsprov_test_drop {\n  chain input {\n    type filter hook input priority 0; policy drop;\n  }\n}\n';
    const dropped = await lab.exec('inner', ['nft', '-f', '-'], { input: drop });
    expect(dropped.code, dropped.stderr).toBe(0);
    try {
      const file = inventory('dead-behind-jump', { agent: false, connect_timeout: 2 }, { inner: { address: 'inner' } });
      const began = performance.now();
      const result = await lvsprov(['status', '-i', file, '-p', playbook(), '--json']);
      const seconds = (performance.now() - began) / 1000;
      expect(result.code, result.stdout + result.stderr).toBe(3);
      const host = (JSON.parse(result.stdout) as { hosts: Array<{ host: string; reachable: boolean; error?: string }> }).hosts[0];
      expect(host).toMatchObject({ host: 'inner', reachable: false });
      expect(host?.error).toContain('no answer from 192.0.2.32:22 through the jump host within 2 s (the connect timeout)');
      // The 2 s, the jump connection and node's start: far from the jump host's two minutes.
      expect(seconds).toBeLessThan(10);
    } finally {
      await lab.exec('inner', ['nft', 'delete', 'table', 'inet', 'lvsprov_test_drop']);
    }
  });

  it("follows a jump host's own ProxyJump, as ssh does: the chain written one hop per Host block", async () => {
    await clearMarkers();
    const config = join(home, '.ssh/config');
    sshConfig(
      [
        'Host inner',
        '  HostName 192.0.2.32',
        '  ProxyJump j2alias',
        'Host j2alias',
        '  HostName 192.0.2.31',
        '  ProxyJump j1alias',
        'Host j1alias',
        '  HostName 192.0.2.30',
        'Host *',
        '  User root',
        `  IdentityFile ${lab.clientKeyPath}`,
        `  UserKnownHostsFile ${join(home, '.ssh/known_hosts')}`,
        '',
      ].join('\n'),
    );
    // OpenSSH's client reaches inner through j1 then j2 with this file; j2 alone cannot answer the control side.
    const ssh = spawnSync('ip', ['netns', 'exec', lab.controlNamespace, 'ssh', '-F', config, '-o', 'BatchMode=yes', 'inner', 'true'], { encoding: 'utf8' });
    expect(ssh.status, ssh.stderr).toBe(0);
    const file = inventory('hop-per-block', { agent: false, connect_timeout: 5 }, { inner: { address: 'inner' } });
    const result = await lvsprov(['apply', '-i', file, '-p', playbook(), '--json']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await marker('inner')).toBe('inner\n');
    const shown = await lvsprov(['ssh-config', '-i', file]);
    expect(shown.stdout).toMatch(/proxyjump +root@192\.0\.2\.30:22,root@192\.0\.2\.31:22 +# .*config:3 \(Host inner\)/);
  });

  it('trusts a host known only through GlobalKnownHostsFile, and records an unknown key under StrictHostKeyChecking accept-new', async () => {
    await clearMarkers();
    const globalFile = join(dir, 'global_known_hosts');
    writeFileSync(globalFile, `192.0.2.30 ${hostKey('192.0.2.30')}\n`);
    const userFile = join(dir, 'user_known_hosts');
    writeFileSync(userFile, '');
    const key = ['  User root', `  IdentityFile ${lab.clientKeyPath}`, `  UserKnownHostsFile ${userFile}`];
    const global = inventory('global', { agent: false }, { j1: { address: '192.0.2.30' } });
    sshConfig(['Host 192.0.2.30', ...key, `  GlobalKnownHostsFile ${globalFile}`, ''].join('\n'));
    const viaGlobal = await lvsprov(['apply', '-i', global, '-p', playbook(), '--json']);
    expect(viaGlobal.code, viaGlobal.stdout + viaGlobal.stderr).toBe(0);
    expect(readFileSync(userFile, 'utf8')).toBe('');

    // Without GlobalKnownHostsFile, /etc/ssh/ssh_known_hosts is read: here a folder of the test's
    // own, bind-mounted on /etc/ssh in a mount namespace of lvsprov's alone (the machine's stays as it is).
    await clearMarkers();
    const etcSsh = join(dir, 'etc-ssh');
    mkdirSync(etcSsh, { recursive: true });
    writeFileSync(join(etcSsh, 'ssh_known_hosts'), `192.0.2.30 ${hostKey('192.0.2.30')}\n`);
    sshConfig(['Host 192.0.2.30', ...key, ''].join('\n'));
    const viaEtc = spawnSync(
      'ip',
      ['netns', 'exec', lab.controlNamespace, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount --bind ${etcSsh} /etc/ssh && mount --bind "$HOME" ${userInfo().homedir} && exec "$@"`, 'sh', process.execPath, cliPath, 'apply', '-i', global, '-p', playbook(), '--json'],
      { env: { ...process.env, HOME: home, SSH_AUTH_SOCK: '' }, encoding: 'utf8', cwd: join(import.meta.dirname, '../..') },
    );
    expect(viaEtc.status, viaEtc.stdout + viaEtc.stderr).toBe(0);
    expect(await marker('j1')).toBe('j1\n');
    expect(readFileSync(userFile, 'utf8')).toBe('');
    const shown = await lvsprov(['ssh-config', '-i', global, 'j1']);
    expect(shown.stdout).toMatch(/globalknownhostsfile +\/etc\/ssh\/ssh_known_hosts \/etc\/ssh\/ssh_known_hosts2 +# default/);

    // The same host without the global file: its key is known nowhere (j1 again: j2 and inner
    // cannot answer the control side directly).
    sshConfig(['Host 192.0.2.30', ...key, '  GlobalKnownHostsFile none', ''].join('\n'));
    const unknown = inventory('unknown', { agent: false }, { j1: { address: '192.0.2.30' } });
    const refused = await lvsprov(['apply', '-i', unknown, '-p', playbook(), '--json']);
    expect(refused.code).toBe(3);
    expect(parseJson(refused).hosts[0]?.error?.message).toMatch(new RegExp(`host key SHA256:\\S+ is not in ${userFile}; check it and re-run with --accept-new-host-keys`));

    sshConfig(['Host 192.0.2.30', ...key, '  GlobalKnownHostsFile none', '  StrictHostKeyChecking accept-new', ''].join('\n'));
    const accepted = await lvsprov(['apply', '-i', unknown, '-p', playbook(), '--json']);
    expect(accepted.code, accepted.stdout + accepted.stderr).toBe(0);
    expect(readFileSync(userFile, 'utf8')).toMatch(/^\|1\|\S+ ssh-ed25519 AAAA\S+\n$/);

    // `HashKnownHosts no` in the user's file wins over Debian's `yes` in /etc/ssh/ssh_config: the
    // name is recorded as it is, the very line OpenSSH's client writes for the same config.
    await clearMarkers();
    const plainConfig = (file: string): string =>
      ['Host 192.0.2.30', ...key.slice(0, 2), `  UserKnownHostsFile ${file}`, '  GlobalKnownHostsFile none', '  StrictHostKeyChecking accept-new', '  HashKnownHosts no', ''].join('\n');
    const plainFile = join(dir, 'user_known_hosts_plain');
    sshConfig(plainConfig(plainFile));
    const plain = await lvsprov(['apply', '-i', unknown, '-p', playbook(), '--json']);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    const sshFile = join(dir, 'ssh_known_hosts_plain');
    const sshConfigFile = join(dir, 'ssh-config-plain');
    writeFileSync(sshConfigFile, `${plainConfig(sshFile)}Include /etc/ssh/ssh_config\n`);
    const ssh = spawnSync('ip', ['netns', 'exec', lab.controlNamespace, 'ssh', '-F', sshConfigFile, '-o', 'BatchMode=yes', '192.0.2.30', 'true'], { encoding: 'utf8' });
    expect(ssh.status, ssh.stderr).toBe(0);
    expect(readFileSync(plainFile, 'utf8')).toBe(`192.0.2.30 ${hostKey('192.0.2.30')}\n`);
    expect(readFileSync(plainFile, 'utf8')).toBe(readFileSync(sshFile, 'utf8'));
  });

  it('reaches an alias only /etc/ssh/ssh_config.d knows, through the system file read after ~/.ssh/config', async () => {
    await clearMarkers();
    // The machine's /etc/ssh stays as it is: a folder of the test's own is bind-mounted there in a
    // mount namespace of lvsprov's alone, holding Debian's Include line and one drop-in.
    const etcSsh = join(dir, 'etc-ssh-system');
    mkdirSync(join(etcSsh, 'ssh_config.d'), { recursive: true });
    writeFileSync(join(etcSsh, 'ssh_config'), 'Include /etc/ssh/ssh_config.d/*.conf\nHost *\n  SendEnv LANG LC_*\n');
    writeFileSync(join(etcSsh, 'ssh_config.d', 'lab.conf'), ['Host sysalias', '  HostName 192.0.2.30', '  User root', `  IdentityFile ${lab.clientKeyPath}`, ''].join('\n'));
    sshConfig('');
    const file = inventory('system-alias', { agent: false }, { j1: { address: 'sysalias' } });
    const run = (args: string[]) =>
      spawnSync('ip', ['netns', 'exec', lab.controlNamespace, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount --bind ${etcSsh} /etc/ssh && mount --bind "$HOME" ${userInfo().homedir} && exec "$@"`, 'sh', process.execPath, cliPath, ...args], {
        env: { ...process.env, HOME: home, SSH_AUTH_SOCK: '' },
        encoding: 'utf8',
        cwd: join(import.meta.dirname, '../..'),
      });
    const applied = run(['apply', '-i', file, '-p', playbook(), '--json']);
    expect(applied.status, applied.stdout + applied.stderr).toBe(0);
    expect(await marker('j1')).toBe('j1\n');
    expect(run(['ssh-config', '-i', file]).stdout).toMatch(/hostname +192\.0\.2\.30 +# \/etc\/ssh\/ssh_config\.d\/lab\.conf:2 \(Host sysalias\)/);
  });

  it('finds and records the key of a host behind a forwarded port under its HostKeyAlias, without the port, as ssh does', async () => {
    await clearMarkers();
    // j1's sshd answers on port 2222 too, as a host behind a forwarded port would.
    const redirect = 'add table ip lvsprov_test; add chain ip lvsprov_test pre { type nat hook prerouting priority -100; }; add rule ip lvsprov_test pre tcp dport 2222 redirect to :22';
    expect((await lab.exec('j1', ['nft', redirect])).code).toBe(0);
    try {
      const knownFile = join(dir, 'alias_known_hosts');
      writeFileSync(knownFile, `j1-forwarded ${hostKey('192.0.2.30')}\n`);
      const lines = (strict: string): string =>
        ['Host 192.0.2.30', '  User root', `  IdentityFile ${lab.clientKeyPath}`, '  Port 2222', '  HostKeyAlias j1-forwarded', `  UserKnownHostsFile ${knownFile}`, '  GlobalKnownHostsFile none', `  StrictHostKeyChecking ${strict}`, ''].join('\n');
      sshConfig(lines('yes'));
      const file = inventory('alias', { agent: false }, { j1: { address: '192.0.2.30' } });
      const known = await lvsprov(['apply', '-i', file, '-p', playbook(), '--json']);
      expect(known.code, known.stdout + known.stderr).toBe(0);
      expect(await marker('j1')).toBe('j1\n');
      // OpenSSH's client, with the same config and file, takes the same entry.
      const ssh = spawnSync('ip', ['netns', 'exec', lab.controlNamespace, 'ssh', '-F', join(home, '.ssh/config'), '-o', 'BatchMode=yes', '192.0.2.30', 'true'], { encoding: 'utf8' });
      expect(ssh.status, ssh.stderr).toBe(0);

      // accept-new records the key under the alias alone, where ssh-keygen -F (and ssh) find it.
      writeFileSync(knownFile, '');
      sshConfig(lines('accept-new'));
      const recorded = await lvsprov(['apply', '-i', file, '-p', playbook(), '--json']);
      expect(recorded.code, recorded.stdout + recorded.stderr).toBe(0);
      expect(spawnSync('ssh-keygen', ['-F', 'j1-forwarded', '-f', knownFile], { encoding: 'utf8' }).stdout).toContain(hostKey('192.0.2.30').split(' ')[1]);
      sshConfig(lines('yes'));
      expect(spawnSync('ip', ['netns', 'exec', lab.controlNamespace, 'ssh', '-F', join(home, '.ssh/config'), '-o', 'BatchMode=yes', '192.0.2.30', 'true'], { encoding: 'utf8' }).status).toBe(0);
    } finally {
      await lab.exec('j1', ['nft', 'delete table ip lvsprov_test']);
    }
  });

  it('CheckHostIP yes: checks the key under the address the name reached too, records it there, and refuses a key that differs from the one known for the address, as ssh does', async () => {
    await clearMarkers();
    // The name resolves in the control namespace alone: `ip netns exec` mounts /etc/netns/NS/hosts over /etc/hosts.
    const netnsEtc = join('/etc/netns', lab.controlNamespace);
    const hadNetnsDir = existsSync('/etc/netns');
    mkdirSync(netnsEtc, { recursive: true });
    writeFileSync(join(netnsEtc, 'hosts'), '127.0.0.1 localhost\n192.0.2.30 j1.lab.example\n');
    try {
      const knownFile = join(dir, 'check_host_ip_known_hosts');
      writeFileSync(knownFile, `j1.lab.example ${hostKey('192.0.2.30')}\n`);
      const config = (checkHostIp: string, strict = 'yes'): string =>
        ['Host j1.lab.example', '  User root', `  IdentityFile ${lab.clientKeyPath}`, `  UserKnownHostsFile ${knownFile}`, '  GlobalKnownHostsFile none', '  HashKnownHosts no', `  CheckHostIP ${checkHostIp}`, `  StrictHostKeyChecking ${strict}`, ''].join('\n');
      const file = inventory('check-host-ip', { agent: false }, { j1: { address: 'j1.lab.example' } });
      sshConfig(config('yes'));
      const recorded = await lvsprov(['apply', '-i', file, '-p', playbook(), '--json']);
      expect(recorded.code, recorded.stdout + recorded.stderr).toBe(0);
      expect(await marker('j1')).toBe('j1\n');
      // The key is now known under the address as well, as ssh records it ("Permanently added ... for IP address").
      expect(readFileSync(knownFile, 'utf8')).toBe(`j1.lab.example ${hostKey('192.0.2.30')}\n192.0.2.30 ${hostKey('192.0.2.30')}\n`);

      // The address's line now names another host's key: refused, by OpenSSH's client too.
      writeFileSync(knownFile, `j1.lab.example ${hostKey('192.0.2.30')}\n192.0.2.30 ${hostKey('192.0.2.31')}\n`);
      const refused = await lvsprov(['apply', '-i', file, '-p', playbook(), '--json']);
      expect(refused.code).toBe(3);
      expect(parseJson(refused).hosts[0]?.error?.message).toMatch(/the ssh-ed25519 host key for j1\.lab\.example \(SHA256:\S+\) differs from the key for the IP address 192\.0\.2\.30 in \S+check_host_ip_known_hosts/);
      const sshConfigFile = join(dir, 'ssh-config-check-host-ip');
      writeFileSync(sshConfigFile, config('yes'));
      const ssh = spawnSync('ip', ['netns', 'exec', lab.controlNamespace, 'ssh', '-F', sshConfigFile, '-o', 'BatchMode=yes', 'j1.lab.example', 'true'], { encoding: 'utf8' });
      expect(ssh.status).toBe(255);
      expect(ssh.stderr).toMatch(/Host key verification failed/);
      const sshUnchecked = spawnSync('ip', ['netns', 'exec', lab.controlNamespace, 'ssh', '-F', sshConfigFile, '-o', 'CheckHostIP=no', '-o', 'BatchMode=yes', 'j1.lab.example', 'true'], { encoding: 'utf8' });
      expect(sshUnchecked.status, sshUnchecked.stderr).toBe(0);
      // StrictHostKeyChecking no: ssh warns and goes on, recording nothing for the address; so does lvsprov.
      const stale = readFileSync(knownFile, 'utf8');
      for (const strict of ['no', 'accept-new']) {
        sshConfig(config('yes', strict));
        const run = await lvsprov(['apply', '-i', file, '-p', playbook(), '--json']);
        writeFileSync(sshConfigFile, config('yes', strict));
        const openssh = spawnSync('ip', ['netns', 'exec', lab.controlNamespace, 'ssh', '-F', sshConfigFile, '-o', 'BatchMode=yes', 'j1.lab.example', 'true'], { encoding: 'utf8' });
        expect(openssh.stderr).toMatch(/differs from the key for the IP address '192\.0\.2\.30'/);
        if (strict === 'no') {
          expect(run.code, run.stdout + run.stderr).toBe(0);
          expect(run.stderr).toMatch(/^warning: j1: the ssh-ed25519 host key for j1\.lab\.example \(SHA256:\S+\) differs from the key for the IP address 192\.0\.2\.30 .*; StrictHostKeyChecking no: going on, as ssh does$/m);
          expect(openssh.status, openssh.stderr).toBe(0);
        } else {
          expect(run.code).toBe(3);
          expect(parseJson(run).hosts[0]?.error?.message).toMatch(/CheckHostIP yes refuses it, as ssh does \(StrictHostKeyChecking accept-new\)/);
          expect(openssh.status).toBe(255);
        }
        expect(readFileSync(knownFile, 'utf8')).toBe(stale);
      }
      // accept-new, the name unknown and the address known under another name (check_host_key in
      // sshconnect.c: the name is HOST_NEW, the address HOST_OK or HOST_CHANGED). The address's key
      // the same: the key is recorded under the name alone, by both. Another key there: both refuse
      // ("Exiting, you have requested strict checking"); ssh has by then written the name's line
      // (it records a new name before it looks at the address), lvsprov records nothing for a
      // connection it refused: the next run of either refuses the same way until the address's
      // line is put right, and then both end with the same file.
      for (const [addressKey, same] of [[hostKey('192.0.2.30'), true], [hostKey('192.0.2.31'), false]] as const) {
        const before = `old.lab.example,192.0.2.30 ${addressKey}\n`;
        const named = `j1.lab.example ${hostKey('192.0.2.30')}\n`;
        writeFileSync(knownFile, before);
        sshConfig(config('yes', 'accept-new'));
        const run = await lvsprov(['apply', '-i', file, '-p', playbook(), '--json']);
        const ours = readFileSync(knownFile, 'utf8');
        writeFileSync(knownFile, before);
        writeFileSync(sshConfigFile, config('yes', 'accept-new'));
        const openssh = spawnSync('ip', ['netns', 'exec', lab.controlNamespace, 'ssh', '-F', sshConfigFile, '-o', 'BatchMode=yes', 'j1.lab.example', 'true'], { encoding: 'utf8' });
        const theirs = readFileSync(knownFile, 'utf8');
        if (same) {
          expect(run.code, run.stdout + run.stderr).toBe(0);
          expect(openssh.status, openssh.stderr).toBe(0);
          expect([ours, theirs]).toEqual([before + named, before + named]);
        } else {
          expect(run.code).toBe(3);
          expect(parseJson(run).hosts[0]?.error?.message).toMatch(/differs from the key for the IP address 192\.0\.2\.30 .*CheckHostIP yes refuses it, as ssh does \(StrictHostKeyChecking accept-new\)/);
          expect(openssh.status).toBe(255);
          expect(openssh.stderr).toMatch(/differs from the key for the IP address '192\.0\.2\.30'[\s\S]*Exiting, you have requested strict checking/);
          expect([ours, theirs]).toEqual([before, before + named]);
        }
      }
      // CheckHostIP no (ssh's default): the name alone decides.
      sshConfig(config('no'));
      const unchecked = await lvsprov(['apply', '-i', file, '-p', playbook(), '--json']);
      expect(unchecked.code, unchecked.stdout + unchecked.stderr).toBe(0);
    } finally {
      rmSync(netnsEtc, { recursive: true, force: true });
      if (!hadNetnsDir) rmdirSync('/etc/netns');
    }
  });

  it('trusts a host known only through @cert-authority once it presents a certificate that CA signed; before, refuses it saying why', async () => {
    const ca = join(dir, 'host_ca');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'host-ca', '-f', ca], { stdio: 'ignore' });
    const knownFile = join(dir, 'ca_known_hosts');
    const authorityLine = `@cert-authority 192.0.2.* ${readFileSync(`${ca}.pub`, 'utf8').trim()}\n`;
    writeFileSync(knownFile, authorityLine);
    sshConfig('');
    const file = inventory('cert', { agent: false, user: 'root', private_key: lab.clientKeyPath, known_hosts: knownFile }, { j1: { address: '192.0.2.30' } });
    const refused = await lvsprov(['apply', '-i', file, '-p', playbook(), '--json']);
    expect(refused.code).toBe(3);
    expect(parseJson(refused).hosts[0]?.error?.message).toMatch(/known there only through @cert-authority, and the host presented its plain key, no certificate/);

    const hostPublicKey = join(dir, 'j1_host_key.pub');
    writeFileSync(hostPublicKey, `${hostKey('192.0.2.30')}\n`);
    const signed = spawnSync('ssh-keygen', ['-q', '-s', ca, '-I', 'j1', '-h', '-n', '192.0.2.30', '-V', '-5m:+1h', hostPublicKey], { encoding: 'utf8' });
    expect(signed.status, signed.stderr).toBe(0);
    await lab.presentHostCertificate('j1', readFileSync(join(dir, 'j1_host_key-cert.pub'), 'utf8'));
    await clearMarkers();
    const trusted = await lvsprov(['apply', '-i', file, '-p', playbook(), '--json']);
    expect(trusted.code, trusted.stdout + trusted.stderr).toBe(0);
    expect(await marker('j1')).toBe('j1\n');
    // Trusted through the CA: no plain key was recorded.
    expect(readFileSync(knownFile, 'utf8')).toBe(authorityLine);
  });
});
