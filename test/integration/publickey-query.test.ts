import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshdLogs } from '../../bench/src/sshd-logs.js';
import { createLab, flatLabSpec, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { runCli } from '../support/cli.js';
import { startAgent } from '../support/ssh-agent.js';

// A login with a key from a file sends its signed request at once; only an agent's key is asked
// about first (publickey-query.ts says why). Seen from the host's own sshd at VERBOSE, which logs
// "Postponed publickey" for every query it answers yes to: none for lvsprov's keys, one for the
// agent's and for OpenSSH's own client (so the log shows a query when one is made). A key the
// host refuses costs one refusal, as its query did, and the next key still logs in: here an RSA
// key, whose signature must use the algorithm the host's server-sig-algs allowed.

const availability = labAvailability();
const count = (text: string, pattern: RegExp): number => [...text.matchAll(pattern)].length;
const logins = (text: string) => ({
  queried: count(text, /Postponed publickey for root /g),
  refused: count(text, /Failed publickey for root /g),
  accepted: count(text, /Accepted publickey for root /g),
});

describe.skipIf(skipLabSuite(availability))(`public key logins on real sshd (${availability.reason})`, () => {
  let lab: Lab;
  let dir: string;
  let home: string;
  let logs: SshdLogs;
  let host: string;
  let address: string;
  let agent: ChildProcess | undefined;

  const playbook = (): string => {
    const file = join(dir, 'touch.yaml');
    writeFileSync(file, stringify([{ hosts: 'all', tasks: [{ name: 'marker', file: { path: '/etc/lvsprov-publickey-test', content: 'x\n' } }] }]));
    return file;
  };
  const inventory = (name: string, ssh: Record<string, unknown>): string => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, stringify({ ssh: { user: 'root', known_hosts: lab.knownHostsPath, connect_timeout: 20, ...ssh }, hosts: { [host]: { address } } }));
    return file;
  };
  const checkRun = async (file: string, env: NodeJS.ProcessEnv = {}): Promise<string> => {
    const mark = await logs.mark();
    const result = await runCli(['apply', '-i', file, '-p', playbook(), '--check'], { namespace: lab.controlNamespace, env: { HOME: home, ...env } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    return (await logs.textSince(mark)).get(host) ?? '';
  };
  const keygen = (name: string, type: string): string => {
    const file = join(dir, name);
    const made = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', file], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    return file;
  };

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-publickey-'));
    home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    lab = await createLab(flatLabSpec('itpk', 1), join(dir, 'lab'));
    host = lab.hosts[0]?.name as string;
    address = lab.hosts[0]?.addresses[0] as string;
    logs = await SshdLogs.enable(lab);
  });

  afterAll(async () => {
    if (agent?.pid) process.kill(agent.pid, 'SIGTERM');
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('a key from a file logs in with one signed request, no query', async () => {
    const text = await checkRun(inventory('file', { private_key: lab.clientKeyPath, agent: false }));
    expect(logins(text)).toEqual({ queried: 0, refused: 0, accepted: 1 });
  });

  it("a key the host refuses costs one refusal, and the next (RSA, signed as server-sig-algs allows) logs in", async () => {
    const stranger = keygen('stranger_ed25519', 'ed25519');
    const rsa = keygen('id_rsa', 'rsa');
    const added = await lab.exec(host, ['sh', '-c', 'cat >> /etc/lvsprov-lab/authorized_keys'], { input: readFileSync(`${rsa}.pub`, 'utf8') });
    expect(added.code).toBe(0);
    writeFileSync(join(home, '.ssh/config'), `Host *\n  IdentityFile ${stranger}\n  IdentityFile ${rsa}\n`);
    try {
      const text = await checkRun(inventory('two-keys', { agent: false }));
      expect(logins(text)).toEqual({ queried: 0, refused: 1, accepted: 1 });
      expect(text).toMatch(/Accepted publickey for root .* RSA SHA256:/);
    } finally {
      rmSync(join(home, '.ssh/config'));
    }
  });

  it("an agent's key is asked about first, as OpenSSH's client asks for every key", async () => {
    const socket = join(dir, 'agent.sock');
    agent = await startAgent(socket, [lab.clientKeyPath]);
    const text = await checkRun(inventory('agent', { agent: true }), { SSH_AUTH_SOCK: socket });
    expect(logins(text)).toEqual({ queried: 1, refused: 0, accepted: 1 });

    const mark = await logs.mark();
    const ssh = await lab.runInControl(lab.sshArgv(host, ['true']));
    expect(ssh.code, ssh.stderr).toBe(0);
    expect(logins((await logs.textSince(mark)).get(host) ?? '')).toEqual({ queried: 1, refused: 0, accepted: 1 });
  });
});
