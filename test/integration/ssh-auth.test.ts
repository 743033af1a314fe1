import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { startAgent } from '../support/ssh-agent.js';

// The ways lvsprov authenticates and reaches hosts, against real sshd: an encrypted key with its
// passphrase from the environment, an ssh-agent, and a jump host for a host the control side
// cannot reach directly.

const availability = labAvailability();
const PASSPHRASE = 'correct horse battery staple';

describe.skipIf(skipLabSuite(availability))(`ssh authentication and jump hosts (${availability.reason})`, () => {
  let lab: Lab;
  let dir: string;
  let encryptedKey: string;
  let agent: ChildProcess | undefined;
  const agentSocket = (): string => join(dir, 'agent.sock');

  const playbook = (): string => {
    const file = join(dir, 'touch.yaml');
    writeFileSync(file, stringify([{ hosts: 'all', tasks: [{ name: 'marker', file: { path: '/etc/lvsprov-ssh-test', content: '{{inventory_hostname}}\n' } }] }]));
    return file;
  };
  const inventory = (name: string, ssh: Record<string, unknown>, hosts: Record<string, unknown>): string => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, stringify({ ssh: { user: 'root', known_hosts: lab.knownHostsPath, connect_timeout: 20, ...ssh }, hosts }));
    return file;
  };
  const marker = async (host: string): Promise<string> => (await lab.exec(host, ['cat', '/etc/lvsprov-ssh-test'])).stdout;
  const clearMarkers = async (): Promise<void> => {
    for (const host of ['bastion', 'inner']) await lab.exec(host, ['rm', '-f', '/etc/lvsprov-ssh-test']);
  };

  /** The encrypted key as an agent gets it from ssh-add once the passphrase was asked: a decrypted copy. */
  const decryptedCopy = (name: string): string => {
    const decrypted = join(dir, name);
    writeFileSync(decrypted, readFileSync(encryptedKey), { mode: 0o600 });
    expect(spawnSync('ssh-keygen', ['-q', '-p', '-P', PASSPHRASE, '-N', '', '-f', decrypted]).status).toBe(0);
    return decrypted;
  };

  /**
   * OpenSSH's client logging in to inner as root with `home`'s ~/.ssh: its home is the passwd
   * entry's, not $HOME, so a tmpfs over it in a mount namespace of its own holds a copy.
   */
  const opensshWithHome = (home: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(
      'ip',
      ['netns', 'exec', lab.controlNamespace, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs none "$HOME" && cp -a "$1" "$HOME/.ssh" && shift 2 && exec ssh -F none -o BatchMode=yes -o UserKnownHostsFile="$0" "$@" root@192.0.2.21 true', lab.knownHostsPath, join(home, '.ssh'), 'unused', ...args],
      { env: { ...process.env, HOME: userInfo().homedir, SSH_AUTH_SOCK: '', ...env }, encoding: 'utf8' },
    );

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-sshauth-'));
    lab = await createLab(
      {
        name: 'itssh',
        subnets: [{ name: 'lan', cidr: '192.0.2.0/24', controlAddress: '192.0.2.254' }],
        hosts: [
          { name: 'bastion', interfaces: [{ subnet: 'lan', address: '192.0.2.20' }] },
          { name: 'inner', interfaces: [{ subnet: 'lan', address: '192.0.2.21' }] },
        ],
      },
      join(dir, 'lab'),
    );
    encryptedKey = join(dir, 'encrypted_ed25519');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'encrypted', '-f', encryptedKey], { stdio: 'ignore' });
    const publicKey = readFileSync(`${encryptedKey}.pub`, 'utf8');
    for (const host of ['bastion', 'inner']) {
      const result = await lab.exec(host, ['sh', '-c', 'cat >> /etc/lvsprov-lab/authorized_keys'], { input: publicKey });
      expect(result.code).toBe(0);
    }
  });

  afterAll(async () => {
    if (agent?.pid) process.kill(agent.pid, 'SIGTERM');
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('uses an encrypted key with the passphrase from the named environment variable', async () => {
    await clearMarkers();
    const file = inventory('encrypted', { private_key: encryptedKey, passphrase_env: 'LVSPROV_TEST_PASSPHRASE', agent: false }, { inner: { address: '192.0.2.21' } });
    const ok = await runCli(['apply', '-i', file, '-p', playbook(), '--json'], { namespace: lab.controlNamespace, env: { LVSPROV_TEST_PASSPHRASE: PASSPHRASE } });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(await marker('inner')).toBe('inner\n');

    const unset = await runCli(['apply', '-i', file, '-p', playbook()], { namespace: lab.controlNamespace });
    expect(unset.code).toBe(4);
    expect(unset.stderr).toMatch(/encrypted\.yaml:\d+:\d+: ssh\.passphrase_env: environment variable LVSPROV_TEST_PASSPHRASE is not set/);

    const wrong = await runCli(['apply', '-i', file, '-p', playbook(), '--json'], { namespace: lab.controlNamespace, env: { LVSPROV_TEST_PASSPHRASE: 'wrong' } });
    expect(wrong.code).toBe(3);
    expect(parseJson(wrong).hosts[0]?.error?.message).toMatch(/^inner: cannot use private key .*encrypted_ed25519: .*bad passphrase/);
  });

  it('authenticates through an ssh-agent holding the key', async () => {
    await clearMarkers();
    agent = await startAgent(agentSocket(), [lab.clientKeyPath]);
    const file = inventory('agent', { agent: true }, { inner: { address: '192.0.2.21' } });
    const result = await runCli(['apply', '-i', file, '-p', playbook(), '--json'], { namespace: lab.controlNamespace, env: { SSH_AUTH_SOCK: agentSocket(), HOME: dir } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await marker('inner')).toBe('inner\n');
  });

  it('leaves an encrypted private_key without a passphrase to the agent that holds it, as ssh -i KEY does', async () => {
    await clearMarkers();
    const decrypted = decryptedCopy('decrypted_for_agent');
    const socket = join(dir, 'encrypted-agent.sock');
    const holding = await startAgent(socket, [decrypted]);
    try {
      const ssh = spawnSync('ip', ['netns', 'exec', lab.controlNamespace, 'ssh', '-F', 'none', '-i', encryptedKey, '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${lab.knownHostsPath}`, 'root@192.0.2.21', 'true'], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
        encoding: 'utf8',
      });
      expect(ssh.status, ssh.stderr).toBe(0);
      const file = inventory('encrypted-in-agent', { private_key: encryptedKey, agent: true }, { inner: { address: '192.0.2.21' } });
      const result = await runCli(['apply', '-i', file, '-p', playbook(), '--json'], { namespace: lab.controlNamespace, env: { SSH_AUTH_SOCK: socket } });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(await marker('inner')).toBe('inner\n');
      // Without the agent the key cannot be used, and the message says which key and why.
      const alone = await runCli(['apply', '-i', inventory('encrypted-alone', { private_key: encryptedKey, agent: false }, { inner: { address: '192.0.2.21' } }), '-p', playbook(), '--json'], { namespace: lab.controlNamespace });
      expect(alone.code).toBe(3);
      expect(parseJson(alone).hosts[0]?.error?.message).toMatch(/cannot use private key .*encrypted_ed25519: .*no passphrase given \(wrong or missing passphrase\? see ssh\.passphrase_env\)/);
    } finally {
      if (holding.pid) process.kill(holding.pid, 'SIGTERM');
    }
  });

  it('IdentitiesOnly: the agent signs for the identity files\' keys and offers none of its own, as ssh does', async () => {
    await clearMarkers();
    // The agent holds the lab's key (the host takes it) and a decrypted copy of the encrypted key
    // (the host takes it too); HOME has no key files.
    const decrypted = decryptedCopy('decrypted_for_identities_only');
    const socket = join(dir, 'identities-only-agent.sock');
    const holding = await startAgent(socket, [lab.clientKeyPath, decrypted]);
    const home = join(dir, 'identities-only-home');
    spawnSync('mkdir', ['-p', home]);
    const sshConfig = (lines: string[]): string => {
      const file = join(dir, `identities-only-${lines.length}.config`);
      writeFileSync(file, ['Host inner', '  HostName 192.0.2.21', '  IdentitiesOnly yes', ...lines, ''].join('\n'));
      return file;
    };
    const openssh = (config: string): number | null =>
      spawnSync('ip', ['netns', 'exec', lab.controlNamespace, 'ssh', '-F', config, '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${lab.knownHostsPath}`, '-l', 'root', 'inner', 'true'], {
        env: { ...process.env, SSH_AUTH_SOCK: socket, HOME: home },
      }).status;
    const file = inventory('identities-only', {}, { inner: { address: 'inner' } });
    const apply = (config: string) => runCli(['apply', '-i', file, '-p', playbook(), '-F', config, '--json'], { namespace: lab.controlNamespace, env: { SSH_AUTH_SOCK: socket, HOME: home } });
    try {
      // IdentityFile names the encrypted key: the agent signs for it.
      const withFile = sshConfig([`  IdentityFile ${encryptedKey}`]);
      expect(openssh(withFile)).toBe(0);
      const signed = await apply(withFile);
      expect(signed.code, signed.stdout + signed.stderr).toBe(0);
      expect(await marker('inner')).toBe('inner\n');
      // No IdentityFile and no default key file: nothing may be offered, the agent's keys neither.
      await clearMarkers();
      const noFile = sshConfig([]);
      expect(openssh(noFile)).toBe(255);
      const refused = await apply(noFile);
      expect(refused.code, refused.stdout + refused.stderr).toBe(3);
      expect(parseJson(refused).hosts[0]?.error?.message).toMatch(/authentication/i);
      expect(await marker('inner')).toBe('');
    } finally {
      if (holding.pid) process.kill(holding.pid, 'SIGTERM');
    }
  });

  it('offers each default key file, as ssh does, passing over an encrypted one it cannot open', async () => {
    await clearMarkers();
    // ~/.ssh holds an ed25519 key the host does not know, an encrypted ECDSA key, and (as id_rsa)
    // the key the host takes: only the third logs in.
    const home = join(dir, 'default-keys-home');
    spawnSync('mkdir', ['-p', join(home, '.ssh')]);
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(home, '.ssh/id_ed25519')], { stdio: 'ignore' });
    spawnSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', PASSPHRASE, '-f', join(home, '.ssh/id_ecdsa')], { stdio: 'ignore' });
    writeFileSync(join(home, '.ssh/id_rsa'), readFileSync(lab.clientKeyPath), { mode: 0o600 });
    const file = inventory('default-keys', { agent: false }, { inner: { address: '192.0.2.21' } });
    const result = await runCli(['apply', '-i', file, '-p', playbook(), '-F', 'none', '--json'], { namespace: lab.controlNamespace, env: { HOME: home } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await marker('inner')).toBe('inner\n');
    const shown = await runCli(['ssh-config', '-i', file, '-F', 'none'], { env: { HOME: home } });
    // In ssh's order, which OpenSSH's client shows given the same ~/.ssh (ssh -v: "Will attempt key").
    const order = ['id_rsa', 'id_ecdsa', 'id_ed25519'];
    // The home bound over the passwd entry's (test/support/cli.ts) is seen there, as ssh sees it.
    expect(shown.stdout.match(/^ +identityfile +\S+/gm)?.map((line) => line.trim().split(/ +/)[1])).toEqual(order.map((name) => join(userInfo().homedir, '.ssh', name)));
    const openssh = opensshWithHome(home, ['-v']);
    expect(openssh.status, openssh.stderr).toBe(0);
    expect([...openssh.stderr.matchAll(/Will attempt key: \S+\/(id_\w+)/g)].map((found) => found[1]).filter((name) => order.includes(name ?? ''))).toEqual(order);
  });

  it('offers the default key files beside an ssh-agent, passing over one it cannot read, as OpenSSH\'s client does', async () => {
    await clearMarkers();
    // The agent holds a key the host does not know; ~/.ssh holds a file that is no key and, as
    // id_rsa, the key the host takes.
    const stranger = join(dir, 'stranger_ed25519');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger], { stdio: 'ignore' });
    const socket = join(dir, 'stranger-agent.sock');
    const holding = await startAgent(socket, [stranger]);
    const home = join(dir, 'agent-and-defaults-home');
    spawnSync('mkdir', ['-p', join(home, '.ssh')]);
    writeFileSync(join(home, '.ssh/id_ed25519'), 'not a key\n', { mode: 0o600 });
    writeFileSync(join(home, '.ssh/id_rsa'), readFileSync(lab.clientKeyPath), { mode: 0o600 });
    try {
      const file = inventory('agent-and-defaults', {}, { inner: { address: '192.0.2.21' } });
      const result = await runCli(['apply', '-i', file, '-p', playbook(), '-F', 'none', '--json'], { namespace: lab.controlNamespace, env: { HOME: home, SSH_AUTH_SOCK: socket } });
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(await marker('inner')).toBe('inner\n');
      // OpenSSH's client with the same agent and the same ~/.ssh.
      const openssh = opensshWithHome(home, [], { SSH_AUTH_SOCK: socket });
      expect(openssh.status, openssh.stderr).toBe(0);
    } finally {
      if (holding.pid) process.kill(holding.pid, 'SIGTERM');
    }
  });

  it('reaches a host the control side cannot reach directly through a jump host, over one jump connection', async () => {
    await clearMarkers();
    // inner drops everything it would send to the control namespace: only the bastion can reach it.
    await lab.exec('inner', ['ip', 'route', 'add', 'blackhole', '192.0.2.254/32']);
    try {
      const direct = inventory('direct', { private_key: lab.clientKeyPath, agent: false, connect_timeout: 3 }, { inner: { address: '192.0.2.21' } });
      expect((await runCli(['apply', '-i', direct, '-p', playbook(), '--json'], { namespace: lab.controlNamespace })).code).toBe(3);

      const jumped = inventory(
        'jumped',
        { private_key: lab.clientKeyPath, agent: false },
        {
          bastion: { address: '192.0.2.20' },
          inner: { address: '192.0.2.21', ssh: { jump: { address: '192.0.2.20' } } },
        },
      );
      const result = await runCli(['apply', '-i', jumped, '-p', playbook(), '--json'], { namespace: lab.controlNamespace });
      const json = parseJson(result) as ReturnType<typeof parseJson> & { jumpConnections: number };
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(json.hosts.map((host) => [host.host, host.status, host.stats])).toEqual([
        ['bastion', 'changed', { connections: 1, channels: 1, execs: 2 }],
        ['inner', 'changed', { connections: 1, channels: 1, execs: 2 }],
      ]);
      expect(json.jumpConnections).toBe(1);
      expect(await marker('inner')).toBe('inner\n');
    } finally {
      await lab.exec('inner', ['ip', 'route', 'del', 'blackhole', '192.0.2.254/32']);
    }
  });
});
