import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateSupport } from '../../src/transport/ssh2-host-certificates.js';
import { makeKey, publicKeyText, sign, type KeyKind, type SignOptions } from '../support/host-certificates.js';
import { startAgent } from '../support/ssh-agent.js';
import { openInetdClient } from '../support/sshd-inetd.js';

// Host certificates against the real sshd: each case starts `sshd -i` (inetd mode: the SSH
// connection is the process's stdin and stdout, no port, no network) with one host key and its
// certificate made by ssh-keygen, and connects lvsprov's client to it with a known_hosts file that
// holds a @cert-authority line and no plain key. A login that succeeds is a certificate that was
// negotiated and checked; each refusal names the check that failed. OpenSSH's own client, given
// the same files, is the reference for which certificates are good.

const SSHD = '/usr/sbin/sshd';
const NAME = 'web1.cluster.example';

describe('host certificates (@cert-authority) against the real sshd', () => {
  let dir: string;
  let clientKey: string;
  const hostKeys = new Map<KeyKind, string>();
  const cas = new Map<KeyKind, string>();
  let caseNumber = 0;
  /** The sshd_config of the last connect(): openssh() asks the same server. */
  let lastConfig = '';

  beforeAll(() => {
    if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: run scripts/setup.sh (openssh-server)`);
    // sshd's privilege separation directory; Debian's sshd.service makes it, a machine without a
    // running sshd may lack it.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-host-certs-'));
    clientKey = makeKey(dir, 'client', 'ed25519');
    copyFileSync(`${clientKey}.pub`, join(dir, 'authorized_keys'));
    for (const kind of ['ed25519', 'ecdsa-256', 'rsa'] as const) hostKeys.set(kind, makeKey(dir, `host-${kind}`, kind));
    for (const kind of ['ed25519', 'ecdsa-384', 'rsa'] as const) cas.set(kind, makeKey(dir, `ca-${kind}`, kind));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A certificate of the host key of `kind`, signed by the CA of `caKind`; returns its path. */
  const certificate = (kind: KeyKind, caKind: KeyKind, options: SignOptions = {}): string => {
    caseNumber += 1;
    const copy = join(dir, `case${caseNumber}-${kind}.pub`);
    copyFileSync(`${hostKeys.get(kind)}.pub`, copy);
    return sign(cas.get(caKind) ?? '', copy, { principals: [NAME], ...options });
  };

  const knownHosts = (lines: readonly string[]): string => {
    caseNumber += 1;
    const file = join(dir, `known_hosts-${caseNumber}`);
    writeFileSync(file, lines.map((line) => `${line}\n`).join(''));
    return file;
  };
  const authority = (caKind: KeyKind, pattern = '*.cluster.example'): string => `@cert-authority ${pattern} ${publicKeyText(`${cas.get(caKind)}.pub`)}`;

  /** How the client logs in: the lab key by default; with `trustedUserCa`, sshd takes certificates that CA signed. */
  interface Login {
    readonly privateKeys?: readonly string[];
    readonly certificateFiles?: readonly string[];
    readonly agent?: string;
    readonly agentKeys?: readonly string[];
    readonly trustedUserCa?: string;
    /** sshd's MaxAuthTries: the keys it refuses before it hangs up. */
    readonly maxAuthTries?: number;
  }

  /** Connect to `sshd -i` serving the host key of `kind` with `cert`, as `name`; the command's output or the refusal. */
  const connect = async (kind: KeyKind, cert: string, known: string, name = NAME, login: Login = {}): Promise<{ output?: string; error?: string }> => {
    const config = join(dir, `sshd_config-${caseNumber}`);
    lastConfig = config;
    writeFileSync(
      config,
      [
        `HostKey ${hostKeys.get(kind)}`,
        `HostCertificate ${cert}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        'PidFile none',
        'StrictModes no',
        'LogLevel ERROR',
        ...(login.trustedUserCa ? [`TrustedUserCAKeys ${login.trustedUserCa}.pub`] : []),
        ...(login.maxAuthTries ? [`MaxAuthTries ${login.maxAuthTries}`] : []),
        '',
      ].join('\n'),
    );
    const sshd = spawn(SSHD, ['-i', '-e', '-f', config], { stdio: ['pipe', 'pipe', 'pipe'] });
    let log = '';
    sshd.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    let client: Client | undefined;
    try {
      client = await openInetdClient(sshd, name, {
        privateKeys: login.privateKeys ?? [clientKey],
        ...(login.certificateFiles ? { certificateFiles: login.certificateFiles } : {}),
        ...(login.agent ? { agent: login.agent } : {}),
        ...(login.agentKeys ? { agentKeys: login.agentKeys } : {}),
        knownHostsFiles: [known],
      });
      const opened = client;
      const output = await new Promise<string>((resolve, reject) => {
        opened.exec('echo certified-$(id -u)', (error, stream) => {
          if (error) return reject(error);
          let text = '';
          stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
          stream.on('close', () => resolve(text.trim()));
        });
      });
      return { output };
    } catch (error) {
      return { error: `${(error as Error).message}${log ? ` [sshd: ${log.trim()}]` : ''}` };
    } finally {
      client?.end();
      sshd.kill();
    }
  };

  /** What OpenSSH's client says of the same files: true when it logs in. */
  const openssh = (known: string, name = NAME, login: string[] = ['-o', 'IdentitiesOnly=yes', '-i', clientKey], env: NodeJS.ProcessEnv = { SSH_AUTH_SOCK: '' }): boolean => {
    const result = spawnSync(
      'ssh',
      ['-F', '/dev/null', '-o', `ProxyCommand=${SSHD} -i -f ${lastConfig}`, '-o', `UserKnownHostsFile=${known}`, '-o', 'GlobalKnownHostsFile=/dev/null',
        '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', ...login, `root@${name}`, 'true'],
      { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } },
    );
    return result.status === 0;
  };

  for (const [kind, caKind] of [['ed25519', 'rsa'], ['ecdsa-256', 'ed25519'], ['rsa', 'ecdsa-384']] as const) {
    it(`logs in to a host presenting a ${kind} certificate signed by a ${caKind} CA that known_hosts trusts`, async () => {
      const cert = certificate(kind, caKind);
      const known = knownHosts([authority(caKind)]);
      expect(await connect(kind, cert, known)).toEqual({ output: 'certified-0' });
      expect(certificateSupport.current).toEqual({ active: true });
      expect(openssh(known)).toBe(true);
    });
  }

  it('a certificate without principals is valid for every name, as in OpenSSH', async () => {
    const cert = certificate('ed25519', 'ed25519', { principals: [] });
    const known = knownHosts([authority('ed25519')]);
    expect(await connect('ed25519', cert, known)).toEqual({ output: 'certified-0' });
    expect(openssh(known)).toBe(true);
  });

  it('compares the principals with the host name lowercased, as ssh(1) does', async () => {
    const cert = certificate('ed25519', 'ed25519');
    const known = knownHosts([authority('ed25519')]);
    expect(await connect('ed25519', cert, known, 'WEB1.Cluster.Example')).toEqual({ output: 'certified-0' });
    expect(openssh(known, 'WEB1.Cluster.Example')).toBe(true);
  });

  const refusals: { name: string; options?: SignOptions; known?: () => string[]; message: RegExp }[] = [
    { name: 'a certificate for other names', options: { principals: ['db1.cluster.example', 'db2'] }, message: new RegExp(`is not valid for ${NAME} \\(its principals: db1.cluster.example, db2\\)`) },
    { name: 'an expired certificate', options: { validity: '20200101:20200201' }, message: /expired at 2020-02-01T/ },
    { name: 'a certificate not valid yet', options: { validity: '+1d:+2d' }, message: /is not valid before 20\d\d-/ },
    { name: 'a user certificate', options: { host: false }, message: /is a user certificate, not a host certificate/ },
    { name: 'a CA marked @revoked', known: () => [authority('ed25519'), `@revoked * ${publicKeyText(`${cas.get('ed25519')}.pub`)}`], message: /the CA key is marked @revoked/ },
    { name: 'a certified key marked @revoked', known: () => [authority('ed25519'), `@revoked ${NAME} ${publicKeyText(`${hostKeys.get('ed25519')}.pub`)}`], message: /the certified key is marked @revoked/ },
    { name: 'a certificate of a CA no line trusts', known: () => [authority('rsa')], message: /only through @cert-authority, and the host's certificate was not accepted: .*signed by CA SHA256:\S+\): no @cert-authority line for web1.cluster.example in \S+ trusts that CA/ },
    { name: 'a CA trusted for other hosts only', known: () => [authority('ed25519', '*.other.example')], message: /is not in .*check it and re-run with --accept-new-host-keys/ },
  ];
  for (const refusal of refusals) {
    it(`refuses ${refusal.name}, saying why; so does OpenSSH`, async () => {
      const cert = certificate('ed25519', 'ed25519', refusal.options);
      const known = knownHosts(refusal.known?.() ?? [authority('ed25519')]);
      const result = await connect('ed25519', cert, known);
      expect(result.output).toBeUndefined();
      expect(result.error).toMatch(refusal.message);
      expect(openssh(known)).toBe(false);
    });
  }

  it('refuses a certificate an RSA CA signed with ssh-rsa (SHA-1), which OpenSSH no longer accepts', async () => {
    const cert = certificate('ed25519', 'rsa', { signatureAlgorithm: 'ssh-rsa' });
    const known = knownHosts([authority('rsa')]);
    const result = await connect('ed25519', cert, known);
    expect(result.error).toMatch(/is signed with ssh-rsa, which OpenSSH no longer accepts from a ssh-rsa CA/);
    expect(openssh(known)).toBe(false);
  });

  it('a certificate that is not accepted leaves the plain key to decide, as in ssh(1): a recorded key logs in, an unknown one is refused with the reason', async () => {
    const cert = certificate('ed25519', 'ed25519', { validity: '20200101:20200201' });
    const recorded = knownHosts([authority('ed25519'), `${NAME} ${publicKeyText(`${hostKeys.get('ed25519')}.pub`)}`]);
    expect(await connect('ed25519', cert, recorded)).toEqual({ output: 'certified-0' });
    expect(openssh(recorded)).toBe(true);
    const unknown = knownHosts([authority('ed25519')]);
    expect((await connect('ed25519', cert, unknown)).error).toMatch(/known there only through @cert-authority, and the host's certificate was not accepted: .* expired at 2020-02-01T/);
    expect(openssh(unknown)).toBe(false);
  });

  // User certificates: sshd trusts a user CA (TrustedUserCAKeys) and its authorized_keys holds
  // only the lab's key, so a user key logs in through its certificate or not at all.
  describe('user certificates', () => {
    const userCa = (): string => cas.get('ecdsa-384') ?? '';
    /** A new user key of `kind` with its certificate beside it (KEY-cert.pub), for root unless told. */
    const certifiedUser = (kind: KeyKind, options: SignOptions = {}): { key: string; cert: string } => {
      caseNumber += 1;
      const key = makeKey(dir, `user${caseNumber}-${kind}`, kind);
      return { key, cert: sign(userCa(), `${key}.pub`, { host: false, principals: ['root'], ...options }) };
    };
    const host = (): { cert: string; known: string } => ({ cert: certificate('ed25519', 'ed25519'), known: knownHosts([authority('ed25519')]) });

    for (const kind of ['ed25519', 'ecdsa-256', 'rsa'] as const) {
      it(`logs in with a ${kind} key's certificate found beside it (KEY-cert.pub), as ssh -i KEY does`, async () => {
        const { key, cert } = certifiedUser(kind);
        const { cert: hostCert, known } = host();
        const login = { privateKeys: [key], trustedUserCa: userCa() };
        expect(await connect('ed25519', hostCert, known, NAME, login)).toEqual({ output: 'certified-0' });
        expect(openssh(known, NAME, ['-o', 'IdentitiesOnly=yes', '-i', key])).toBe(true);
        if (kind !== 'ed25519') return;
        // The key alone is refused: the certificate is what logged in (once; the same for every kind).
        rmSync(cert);
        expect((await connect('ed25519', hostCert, known, NAME, login)).error).toMatch(/All configured authentication methods failed/);
      });
    }

    it('logs in with a CertificateFile kept apart from its key, signed by that key', async () => {
      const { key, cert } = certifiedUser('ed25519');
      const apart = join(dir, `apart${caseNumber}.cert`);
      renameSync(cert, apart);
      const { cert: hostCert, known } = host();
      expect(await connect('ed25519', hostCert, known, NAME, { privateKeys: [key], certificateFiles: [apart], trustedUserCa: userCa() })).toEqual({ output: 'certified-0' });
      expect(openssh(known, NAME, ['-o', 'IdentitiesOnly=yes', '-i', key, '-o', `CertificateFile=${apart}`])).toBe(true);
    });

    it('logs in with a certificate an ssh-agent holds (ssh-add loads KEY-cert.pub with KEY), with IdentitiesOnly too', async () => {
      const { key } = certifiedUser('ecdsa-256');
      const socket = join(dir, `agent${caseNumber}.sock`);
      const agent = await startAgent(socket, [key]);
      try {
        const { cert: hostCert, known } = host();
        expect(await connect('ed25519', hostCert, known, NAME, { privateKeys: [], agent: socket, trustedUserCa: userCa() })).toEqual({ output: 'certified-0' });
        expect(openssh(known, NAME, [], { SSH_AUTH_SOCK: socket })).toBe(true);
        // IdentitiesOnly with the key file named: the agent's certificate for it is offered, as ssh offers it.
        expect(await connect('ed25519', hostCert, known, NAME, { privateKeys: [], agent: socket, agentKeys: [key], trustedUserCa: userCa() })).toEqual({ output: 'certified-0' });
        expect(openssh(known, NAME, ['-o', 'IdentitiesOnly=yes', '-i', key], { SSH_AUTH_SOCK: socket })).toBe(true);
      } finally {
        if (agent.pid) process.kill(agent.pid, 'SIGTERM');
      }
    });

    it('logs in with a CertificateFile whose key only the agent holds: the agent signs it, as ssh has it signed', async () => {
      const { key, cert } = certifiedUser('ed25519');
      const apart = join(dir, `agent-only${caseNumber}.cert`);
      renameSync(cert, apart);
      const socket = join(dir, `agent${caseNumber}.sock`);
      // The agent holds the plain key alone (nothing beside it to load), and no file of it is left.
      const agent = await startAgent(socket, [key]);
      rmSync(key);
      rmSync(`${key}.pub`);
      try {
        const { cert: hostCert, known } = host();
        const login = { privateKeys: [], certificateFiles: [apart], agent: socket, trustedUserCa: userCa() };
        expect(await connect('ed25519', hostCert, known, NAME, login)).toEqual({ output: 'certified-0' });
        expect(openssh(known, NAME, ['-o', 'IdentityFile=none', '-o', `CertificateFile=${apart}`], { SSH_AUTH_SOCK: socket })).toBe(true);
        // The agent's plain key alone is refused (no authorized key): the certificate is what logged in.
        expect((await connect('ed25519', hostCert, known, NAME, { ...login, certificateFiles: [] })).error).toMatch(/All configured authentication methods failed/);
      } finally {
        if (agent.pid) process.kill(agent.pid, 'SIGTERM');
      }
    });

    const refusals: { name: string; options: SignOptions; message: RegExp }[] = [
      { name: 'an expired certificate', options: { validity: '20200101:20200201' }, message: /All configured authentication methods failed; the user certificate \S+-cert\.pub expired at 2020-02-01T00:00:00Z/ },
      { name: 'a certificate for other users', options: { principals: ['alice', 'bob'] }, message: /; the user certificate \S+-cert\.pub is for alice, bob, not root \(sshd takes/ },
    ];
    for (const refusal of refusals) {
      it(`is refused with ${refusal.name}, saying why; so is OpenSSH's client`, async () => {
        const { key } = certifiedUser('ed25519', refusal.options);
        const { cert: hostCert, known } = host();
        const result = await connect('ed25519', hostCert, known, NAME, { privateKeys: [key], trustedUserCa: userCa() });
        expect(result.output).toBeUndefined();
        expect(result.error).toMatch(refusal.message);
        expect(openssh(known, NAME, ['-o', 'IdentitiesOnly=yes', '-i', key])).toBe(false);
      });
    }
  });
  // The order keys are offered in, against an sshd that hangs up after a few refused keys
  // (MaxAuthTries 3): lvsprov gets in where ssh gets in and is turned away where ssh is.
  describe('the order keys are offered in (sshd MaxAuthTries 3)', () => {
    const wrongKeys = (count: number): string[] =>
      Array.from({ length: count }, () => {
        caseNumber += 1;
        return makeKey(dir, `wrong${caseNumber}`, 'ed25519');
      });
    const host = (): { cert: string; known: string } => ({ cert: certificate('ed25519', 'ed25519'), known: knownHosts([authority('ed25519')]) });

    it('an identity file the agent holds is offered first, through the agent, before the files named ahead of it', async () => {
      const wrong = wrongKeys(3);
      const socket = join(dir, `order${caseNumber}.sock`);
      const agent = await startAgent(socket, [clientKey]);
      try {
        const { cert, known } = host();
        const login = { privateKeys: [...wrong, clientKey], agent: socket, maxAuthTries: 3 };
        expect(await connect('ed25519', cert, known, NAME, login)).toEqual({ output: 'certified-0' });
        expect(openssh(known, NAME, wrong.concat(clientKey).flatMap((file) => ['-i', file]), { SSH_AUTH_SOCK: socket })).toBe(true);
        // Without the agent the three files ahead of the right one use up the host's tries, for both.
        expect((await connect('ed25519', cert, known, NAME, { ...login, agent: undefined })).output).toBeUndefined();
        expect(openssh(known, NAME, wrong.concat(clientKey).flatMap((file) => ['-i', file]))).toBe(false);
      } finally {
        if (agent.pid) process.kill(agent.pid, 'SIGTERM');
      }
    });

    it('the agent\'s other keys come before the identity files it does not hold: six of them use up the tries; IdentitiesOnly leaves them out', async () => {
      const socket = join(dir, `order${caseNumber}.sock`);
      const agent = await startAgent(socket, wrongKeys(6));
      try {
        const { cert, known } = host();
        const login = { privateKeys: [clientKey], agent: socket, maxAuthTries: 3 };
        const refused = await connect('ed25519', cert, known, NAME, login);
        expect(refused.output).toBeUndefined();
        expect(refused.error).toMatch(/authentication|Too many/i);
        expect(openssh(known, NAME, ['-i', clientKey], { SSH_AUTH_SOCK: socket })).toBe(false);
        expect(await connect('ed25519', cert, known, NAME, { ...login, agentKeys: [clientKey] })).toEqual({ output: 'certified-0' });
        expect(openssh(known, NAME, ['-o', 'IdentitiesOnly=yes', '-i', clientKey], { SSH_AUTH_SOCK: socket })).toBe(true);
      } finally {
        if (agent.pid) process.kill(agent.pid, 'SIGTERM');
      }
    });
  });
});
