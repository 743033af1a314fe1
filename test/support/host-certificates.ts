import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Keys and OpenSSH certificates made by the real ssh-keygen, for the certificate tests.

export type KeyKind = 'ed25519' | 'ecdsa-256' | 'ecdsa-384' | 'rsa';

function keygen(args: readonly string[]): void {
  const result = spawnSync('ssh-keygen', ['-q', ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ssh-keygen ${args.join(' ')} failed: ${result.stderr}`);
}

/** A new key pair at dir/name (private) and dir/name.pub; returns the private key's path. */
export function makeKey(dir: string, name: string, kind: KeyKind): string {
  const path = join(dir, name);
  const [type, bits] = kind.split('-');
  keygen(['-t', type ?? kind, ...(bits ? ['-b', bits] : kind === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-C', name, '-f', path]);
  return path;
}

export interface SignOptions {
  /** Principals (-n); none: a certificate valid for every name. */
  readonly principals?: readonly string[];
  /** -V, e.g. `-5m:+1h` (the default) or `20200101:20200102`. */
  readonly validity?: string;
  /** A host certificate (-h); false makes a user certificate. */
  readonly host?: boolean;
  /** -t: the CA's signature algorithm (`ssh-rsa` for SHA-1 with an RSA CA). */
  readonly signatureAlgorithm?: string;
  readonly id?: string;
  readonly serial?: number;
}

/** Sign `publicKey` (a .pub path) with the CA's private key; returns the certificate's path (NAME-cert.pub). */
export function sign(caKey: string, publicKey: string, options: SignOptions = {}): string {
  keygen([
    '-s', caKey,
    '-I', options.id ?? 'lvsprov-test',
    ...(options.host === false ? [] : ['-h']),
    ...(options.principals && options.principals.length > 0 ? ['-n', options.principals.join(',')] : []),
    '-V', options.validity ?? '-5m:+1h',
    ...(options.signatureAlgorithm ? ['-t', options.signatureAlgorithm] : []),
    ...(options.serial !== undefined ? ['-z', String(options.serial)] : []),
    publicKey,
  ]);
  return publicKey.replace(/\.pub$/, '-cert.pub');
}

/** `type base64` of a .pub file: what a known_hosts line holds after its host patterns. */
export function publicKeyText(path: string): string {
  return readFileSync(path, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

/** The wire-format blob of a .pub file (a key or a certificate). */
export function publicKeyBlob(path: string): Buffer {
  return Buffer.from(readFileSync(path, 'utf8').trim().split(/\s+/)[1] ?? '', 'base64');
}
