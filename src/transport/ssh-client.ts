import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { Client, type ConnectConfig } from 'ssh2';
import { ConnectError } from '../errors.js';
import { fingerprint, KnownHosts, preferredHostKeyAlgorithms } from './known-hosts.js';
import type { ConnectOptions } from './types.js';

// One authenticated ssh2 connection with host key checking against known_hosts. Used for both the
// hosts themselves and jump hosts.

export interface ClientTarget {
  readonly label: string;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey?: string;
  readonly passphrase?: string;
  readonly agent?: string;
  readonly knownHostsFile: string;
  readonly connectTimeoutMs: number;
  /** An already-open stream to the host (through a jump host); otherwise TCP to address:port. */
  readonly sock?: Duplex;
}

const knownHostsFiles = new Map<string, KnownHosts>();

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

  let privateKey: Buffer | undefined;
  if (target.privateKey) {
    try {
      privateKey = readFileSync(target.privateKey);
    } catch (error) {
      return Promise.reject(new ConnectError(`${target.label}: cannot read private key ${target.privateKey}: ${(error as Error).message}`));
    }
  }
  const algorithms = preferredHostKeyAlgorithms(recorded);
  const config: ConnectConfig = {
    host: target.address,
    port: target.port,
    username: target.user,
    readyTimeout: target.connectTimeoutMs,
    keepaliveInterval: 15_000,
    ...(privateKey ? { privateKey } : {}),
    ...(target.passphrase !== undefined ? { passphrase: target.passphrase } : {}),
    ...(target.agent ? { agent: target.agent } : {}),
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
