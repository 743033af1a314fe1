import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

// OpenSSH's known_hosts, read the way ssh(1) reads it: plain and hashed (|1|salt|hmac) host
// patterns, [host]:port for non-standard ports, wildcards and negation, @revoked keys. New keys are
// recorded by rewriting the whole file atomically, so a crash never leaves half a line.

export interface KnownKey {
  readonly type: string;
  /** The key blob in SSH wire format, as the server sends it. */
  readonly blob: Buffer;
  readonly revoked: boolean;
}

export type HostKeyVerdict =
  | { readonly kind: 'match' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'revoked' }
  | { readonly kind: 'changed'; readonly expected: readonly string[] };

export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside a wire-format blob (`ssh-ed25519`, `ssh-rsa`, ...). */
export function blobType(blob: Buffer): string {
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

/** The name known_hosts files use for a host: `host` on port 22, `[host]:port` otherwise. */
export function hostToken(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function patternMatches(pattern: string, token: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt = '', hash = ''] = pattern.split('|');
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(token).digest('base64');
    return digest === hash;
  }
  return globToRegExp(pattern).test(token);
}

function hostMatches(patterns: string, token: string): boolean {
  let matched = false;
  for (const pattern of patterns.split(',')) {
    if (pattern.startsWith('!')) {
      if (patternMatches(pattern.slice(1), token)) return false;
    } else if (patternMatches(pattern, token)) {
      matched = true;
    }
  }
  return matched;
}

export class KnownHosts {
  private pending: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  keysFor(host: string, port: number): KnownKey[] {
    if (!existsSync(this.file)) return [];
    const token = hostToken(host, port);
    const keys: KnownKey[] = [];
    for (const raw of readFileSync(this.file, 'utf8').split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const fields = line.split(/\s+/);
      let marker: string | undefined;
      if (fields[0]?.startsWith('@')) marker = fields.shift();
      const [patterns, type, data] = fields;
      if (!patterns || !type || !data || marker === '@cert-authority') continue;
      if (!hostMatches(patterns, token)) continue;
      keys.push({ type, blob: Buffer.from(data, 'base64'), revoked: marker === '@revoked' });
    }
    return keys;
  }

  verdict(host: string, port: number, blob: Buffer): HostKeyVerdict {
    const keys = this.keysFor(host, port);
    if (keys.some((key) => key.revoked && key.blob.equals(blob))) return { kind: 'revoked' };
    const live = keys.filter((key) => !key.revoked);
    if (live.some((key) => key.blob.equals(blob))) return { kind: 'match' };
    // The caller offers only the recorded key types (preferredHostKeyAlgorithms), so any other key
    // presented for a host we know is a changed key.
    if (live.length > 0) return { kind: 'changed', expected: live.map((key) => `${key.type} ${fingerprint(key.blob)}`) };
    return { kind: 'unknown' };
  }

  /** Record a newly accepted key, hashed like OpenSSH's HashKnownHosts. Serialised within the process. */
  add(host: string, port: number, blob: Buffer): Promise<void> {
    const next = this.pending.then(() => {
      const salt = randomBytes(20);
      const hash = createHmac('sha1', salt).update(hostToken(host, port)).digest('base64');
      const line = `|1|${salt.toString('base64')}|${hash} ${blobType(blob)} ${blob.toString('base64')}\n`;
      const before = existsSync(this.file) ? readFileSync(this.file, 'utf8') : '';
      const separator = before === '' || before.endsWith('\n') ? '' : '\n';
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.lvsprov-tmp-${process.pid}`;
      writeFileSync(tmp, before + separator + line, { mode: 0o600 });
      renameSync(tmp, this.file);
    });
    this.pending = next.catch(() => undefined);
    return next;
  }
}

/** Host key algorithms to offer, preferring the types already recorded so a known key is the one negotiated. */
export function preferredHostKeyAlgorithms(keys: readonly KnownKey[]): string[] | undefined {
  const types = [...new Set(keys.filter((key) => !key.revoked).map((key) => key.type))];
  if (types.length === 0) return undefined;
  return types.flatMap((type) => (type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type]));
}
