import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import ssh2, { Client, type AuthenticationType, type ConnectConfig, type ParsedKey } from 'ssh2';
import { ConnectError } from '../errors.js';
import { fingerprint, KnownHosts, preferredHostKeyAlgorithms, verdictFor, type KnownKey } from './known-hosts.js';
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

/** Every known_hosts file of an endpoint: the user's (written to) and the global ones (read only). */
function hostKeysOf(target: ClientTarget): { keys: KnownKey[]; authorities: KnownKey[]; files: string; name: string } {
  const name = target.hostKeyAlias ?? target.address;
  const files = [...target.knownHostsFiles, ...target.globalKnownHostsFiles].map(knownHostsFor);
  return {
    keys: files.flatMap((known) => known.keysFor(name, target.port)),
    authorities: files.flatMap((known) => known.authoritiesFor(name, target.port)),
    files: [...target.knownHostsFiles, ...target.globalKnownHostsFiles].join(', '),
    name,
  };
}

export function openClient(target: ClientTarget, options: ConnectOptions): Promise<Client> {
  const recorded = hostKeysOf(target);
  const userFile = target.knownHostsFiles[0];
  const acceptNew = (options.acceptNewHostKeys || target.acceptNewHostKeys === true) && userFile !== undefined;
  let refusal: string | undefined;
  let newKey: Buffer | undefined;

  let privateKeys: ParsedKey[];
  try {
    privateKeys = target.privateKeys.map((file) => loadPrivateKey(target.label, file, target.passphrase));
  } catch (error) {
    return Promise.reject(error);
  }
  // The keys first, then the agent: the order OpenSSH tries IdentityFiles and the agent's keys in.
  const methods: AuthenticationType[] = [];
  for (const key of privateKeys) methods.push({ type: 'publickey', username: target.user, key } as unknown as AuthenticationType);
  if (target.agent) methods.push({ type: 'agent', username: target.user, agent: target.agent } as unknown as AuthenticationType);
  const algorithms = preferredHostKeyAlgorithms(recorded.keys);
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
      const verdict = verdictFor(recorded.keys, blob);
      if (verdict.kind === 'match') return true;
      if (verdict.kind === 'unknown' && acceptNew) {
        newKey = blob;
        return true;
      }
      refusal =
        verdict.kind === 'unknown' && recorded.authorities.length > 0
          ? `host key ${fingerprint(blob)} is not in ${recorded.files}; ${recorded.name} is known there only through @cert-authority, and ssh2 (the SSH library lvsprov uses) ` +
            'cannot negotiate certificate host keys (it offers none of the *-cert-v01@openssh.com algorithms), so the host presented its plain key and no certificate to check; ' +
            'record the host\'s plain key in known_hosts (or re-run with --accept-new-host-keys after checking its fingerprint)'
          : verdict.kind === 'unknown'
            ? `host key ${fingerprint(blob)} is not in ${recorded.files}; check it and re-run with --accept-new-host-keys to record it`
            : verdict.kind === 'revoked'
              ? `host key ${fingerprint(blob)} is marked @revoked in ${recorded.files}`
              : `HOST KEY CHANGED: the host presented ${fingerprint(blob)} but ${recorded.files} records ${verdict.expected.join(', ')}; ` +
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
      if (accepted && userFile) knownHostsFor(userFile).add(recorded.name, target.port, accepted).then(() => resolve(client), fail);
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
