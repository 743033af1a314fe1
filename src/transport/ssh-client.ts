import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import ssh2, { Client, type AuthenticationType, type ConnectConfig, type ParsedKey } from 'ssh2';
import { ConnectError } from '../errors.js';
import { fingerprint, KnownHosts, preferredHostKeyAlgorithms } from './known-hosts.js';
import type { ConnectOptions, SshEndpoint } from './types.js';

// One authenticated ssh2 connection with host key checking against known_hosts. Used for both the
// hosts themselves and jump hosts.

export interface ClientTarget extends SshEndpoint {
  readonly label: string;
  /** An already-open stream to the host (through a jump host); otherwise TCP to address:port. */
  readonly sock?: Duplex;
}

export const keepaliveIntervalMs = 5_000;

const knownHostsFiles = new Map<string, KnownHosts>();
// An encrypted key costs a bcrypt KDF to open; parse each key once per run, not once per host.
const parsedKeys = new Map<string, ParsedKey>();

function loadPrivateKey(label: string, path: string, passphrase: string | undefined): ParsedKey {
  const cacheKey = `${path}\0${passphrase ?? ''}`;
  const cached = parsedKeys.get(cacheKey);
  if (cached) return cached;
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (error) {
    throw new ConnectError(`${label}: cannot read private key ${path}: ${(error as Error).message}`);
  }
  // ssh2 is CommonJS; its `utils` is reachable only through the default export under ESM.
  const parsed = ssh2.utils.parseKey(data, passphrase);
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (!key || key instanceof Error) {
    const reason = key instanceof Error ? key.message : 'no key found';
    const hint = /passphrase|decrypt|encrypted/i.test(reason) ? ' (wrong or missing passphrase? see ssh.passphrase_env)' : '';
    throw new ConnectError(`${label}: cannot use private key ${path}: ${reason}${hint}`);
  }
  parsedKeys.set(cacheKey, key);
  return key;
}

function knownHostsFor(file: string): KnownHosts {
  let known = knownHostsFiles.get(file);
  if (!known) {
    known = new KnownHosts(file);
    knownHostsFiles.set(file, known);
  }
  return known;
}

export function openClient(target: ClientTarget, options: ConnectOptions): Promise<Client> {
  const known = knownHostsFor(target.knownHostsFile);
  const recorded = known.keysFor(target.address, target.port);
  let refusal: string | undefined;
  let newKey: Buffer | undefined;

  let privateKey: ParsedKey | undefined;
  try {
    if (target.privateKey) privateKey = loadPrivateKey(target.label, target.privateKey, target.passphrase);
  } catch (error) {
    return Promise.reject(error);
  }
  // The key first, then the agent: the order OpenSSH tries an IdentityFile and the agent's keys in.
  const methods: AuthenticationType[] = [];
  if (privateKey) methods.push({ type: 'publickey', username: target.user, key: privateKey } as unknown as AuthenticationType);
  if (target.agent) methods.push({ type: 'agent', username: target.user, agent: target.agent } as unknown as AuthenticationType);
  const algorithms = preferredHostKeyAlgorithms(recorded);
  const config: ConnectConfig = {
    host: target.address,
    port: target.port,
    username: target.user,
    readyTimeout: target.connectTimeoutMs,
    // A host that stops answering is given up after three unanswered keepalives, 15 s; a script
    // that runs long (a drain, a lock wait) is fine as long as the host answers them.
    keepaliveInterval: keepaliveIntervalMs,
    keepaliveCountMax: 2,
    authHandler: methods,
    ...(target.sock ? { sock: target.sock } : {}),
    ...(algorithms ? { algorithms: { serverHostKey: algorithms as never } } : {}),
    hostVerifier: (blob: Buffer) => {
      const verdict = known.verdict(target.address, target.port, blob);
      if (verdict.kind === 'match') return true;
      if (verdict.kind === 'unknown' && options.acceptNewHostKeys) {
        newKey = blob;
        return true;
      }
      refusal =
        verdict.kind === 'unknown'
          ? `host key ${fingerprint(blob)} is not in ${target.knownHostsFile}; check it and re-run with --accept-new-host-keys to record it`
          : verdict.kind === 'revoked'
            ? `host key ${fingerprint(blob)} is marked @revoked in ${target.knownHostsFile}`
            : `HOST KEY CHANGED: the host presented ${fingerprint(blob)} but ${target.knownHostsFile} records ${verdict.expected.join(', ')}; ` +
              'this may be an attack or a reinstalled host; remove the old key from known_hosts only if you know why it changed';
      return false;
    },
  };

  return new Promise((resolve, reject) => {
    const client = new Client();
    const fail = (error: Error): void => {
      // ssh2 may emit a second error while closing (after a handshake timeout: "Connection lost
      // before handshake"); with no listener left, that would crash the whole run.
      client.on('error', () => undefined);
      client.end();
      reject(new ConnectError(`${target.label} (${target.user}@${target.address}:${target.port}): ${refusal ?? error.message}`));
    };
    client.once('ready', () => {
      client.removeListener('error', fail);
      client.on('error', () => undefined);
      const accepted = newKey;
      if (accepted) known.add(target.address, target.port, accepted).then(() => resolve(client), fail);
      else resolve(client);
    });
    client.once('error', fail);
    try {
      client.connect(config);
    } catch (error) {
      fail(error as Error);
    }
  });
}
