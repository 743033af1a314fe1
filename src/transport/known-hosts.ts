import { createHash, createHmac, randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { globMatches } from '../glob.js';

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

/** A host's name as HashKnownHosts writes it: `|1|salt|HMAC-SHA1(salt, name)`, both base64. */
function hashedHostToken(host: string, port: number): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(hostToken(host, port)).digest('base64')}`;
}

/**
 * The name and port a host's keys are found and recorded under, as ssh(1) has them: a
 * HostKeyAlias (lowercased by the connection's resolution, as ssh lowercases it), on no port (`[name]:port` marks a host name on a port other than 22; an
 * alias names the key itself, so a tunnel or a forwarded port can carry it), otherwise the host
 * name lowercased, on its port.
 */
export function knownHostsKey(address: string, port: number, hostKeyAlias?: string): { readonly name: string; readonly port: number } {
  return hostKeyAlias === undefined ? { name: address.toLowerCase(), port } : { name: hostKeyAlias, port: 22 };
}

type Matcher = (token: string) => boolean;

/** One host pattern, compiled once: a hashed name (HMAC-SHA1 with its salt), a glob, or a plain name. */
function compilePattern(pattern: string): Matcher {
  if (pattern.startsWith('|1|')) {
    const [, , salt = '', hash = ''] = pattern.split('|');
    const key = Buffer.from(salt, 'base64');
    return (token) => createHmac('sha1', key).update(token).digest('base64') === hash;
  }
  if (/[*?]/.test(pattern)) {
    const glob = pattern.toLowerCase();
    return (token) => globMatches(glob, token.toLowerCase());
  }
  const name = pattern.toLowerCase();
  return (token) => token.toLowerCase() === name;
}

interface Entry {
  readonly key: KnownKey;
  /** Position in the file: keys are returned in file order, which sets algorithm preference. */
  readonly line: number;
  readonly positive: readonly Matcher[];
  readonly negative: readonly Matcher[];
}

/**
 * A known_hosts file parsed once. Entries whose patterns are all plain names are indexed by name;
 * hashed, wildcard and negated ones are scanned. Re-reading and re-parsing the whole file for
 * every host made a run's lookups quadratic in its host count: 1,000 hosts against a
 * 1,000-line file cost 5 s of CPU (12 s hashed) on the event loop before this index.
 */
class ParsedKnownHosts {
  private readonly byName = new Map<string, Entry[]>();
  private readonly scanned: Entry[] = [];
  private readonly memo = new Map<string, KnownKey[]>();
  /** @cert-authority lines: CAs trusted to sign host certificates for the hosts they match. */
  private readonly authorities: Entry[] = [];

  constructor(text: string) {
    text.split('\n').forEach((raw, line) => {
      const trimmed = raw.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const fields = trimmed.split(/\s+/);
      let marker: string | undefined;
      if (fields[0]?.startsWith('@')) marker = fields.shift();
      const [patterns, type, data] = fields;
      if (!patterns || !type || !data) return;
      const list = patterns.split(',');
      const entry: Entry = {
        key: { type, blob: Buffer.from(data, 'base64'), revoked: marker === '@revoked' },
        line,
        positive: list.filter((pattern) => !pattern.startsWith('!')).map(compilePattern),
        negative: list.filter((pattern) => pattern.startsWith('!')).map((pattern) => compilePattern(pattern.slice(1))),
      };
      if (marker === '@cert-authority') {
        this.authorities.push(entry);
        return;
      }
      if (list.every((pattern) => !pattern.startsWith('!') && !pattern.startsWith('|') && !/[*?]/.test(pattern))) {
        for (const name of new Set(list.map((pattern) => pattern.toLowerCase()))) {
          this.byName.set(name, [...(this.byName.get(name) ?? []), entry]);
        }
      } else {
        this.scanned.push(entry);
      }
    });
  }

  /** The CA keys of the @cert-authority lines matching `token`. */
  authoritiesFor(token: string): KnownKey[] {
    return this.authorities.filter((entry) => !entry.negative.some((match) => match(token)) && entry.positive.some((match) => match(token))).map((entry) => entry.key);
  }

  keysFor(token: string): KnownKey[] {
    let keys = this.memo.get(token);
    if (!keys) {
      // A negated pattern that matches rules the line out, whatever else matches.
      const matching = this.scanned.filter((entry) => !entry.negative.some((match) => match(token)) && entry.positive.some((match) => match(token)));
      keys = [...(this.byName.get(token.toLowerCase()) ?? []), ...matching].sort((a, b) => a.line - b.line).map((entry) => entry.key);
      this.memo.set(token, keys);
    }
    return [...keys];
  }
}

export class KnownHosts {
  private pending: Promise<void> = Promise.resolve();
  private parsed: { readonly version: string; readonly hosts: ParsedKnownHosts } | undefined;

  constructor(readonly file: string) {}

  private current(): ParsedKnownHosts | undefined {
    // One stat per lookup tells whether the file changed (add() renames a new file into place).
    // A missing file is the usual case for the global ones: no exception for it, which would cost
    // every host of a run its stack trace.
    let info;
    try {
      info = statSync(this.file, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    // A device or FIFO (`/dev/null`, the usual "remember nothing") holds no keys, and reading one
    // such as /dev/zero would never end.
    if (!info || !info.isFile()) return undefined;
    const version = `${info.ino}:${info.size}:${info.mtimeMs}`;
    if (this.parsed?.version !== version) this.parsed = { version, hosts: new ParsedKnownHosts(readFileSync(this.file, 'utf8')) };
    return this.parsed.hosts;
  }

  /** A host's keys and the CAs that may sign for it, from one look at the file. */
  lookup(host: string, port: number): { readonly keys: KnownKey[]; readonly authorities: KnownKey[] } {
    const hosts = this.current();
    if (!hosts) return { keys: [], authorities: [] };
    const token = hostToken(host, port);
    return { keys: hosts.keysFor(token), authorities: hosts.authoritiesFor(token) };
  }

  keysFor(host: string, port: number): KnownKey[] {
    return this.current()?.keysFor(hostToken(host, port)) ?? [];
  }

  verdict(host: string, port: number, blob: Buffer): HostKeyVerdict {
    return verdictFor(this.keysFor(host, port), blob);
  }

  /**
   * Record a newly accepted key as ssh(1) writes it: `name keytype key`, the name hashed when
   * HashKnownHosts is yes (ssh's default is no). Serialised within the process.
   */
  add(host: string, port: number, blob: Buffer, hashed: boolean): Promise<void> {
    const next = this.pending.then(() => {
      const line = `${hashed ? hashedHostToken(host, port) : hostToken(host, port)} ${blobType(blob)} ${blob.toString('base64')}\n`;
      // A symlink (known_hosts kept in a dotfiles folder) is followed to the file it names and
      // stays a link. What is not a regular file (`UserKnownHostsFile /dev/null`) is appended to,
      // as ssh appends: a rename would put a regular file in place of /dev/null itself.
      const target = existsSync(this.file) ? realpathSync(this.file) : this.file;
      const info = statSync(target, { throwIfNoEntry: false });
      this.parsed = undefined;
      if (info && !info.isFile()) {
        appendToSpecialFile(target, line);
        return;
      }
      const before = info ? readFileSync(target, 'utf8') : '';
      const separator = before === '' || before.endsWith('\n') ? '' : '\n';
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      const tmp = `${target}.lvsprov-tmp-${process.pid}`;
      // The file keeps its mode, as ssh's append keeps it.
      writeFileSync(tmp, before + separator + line, { mode: info ? info.mode & 0o777 : 0o600 });
      renameSync(tmp, target);
      this.parsed = undefined;
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

/** What a presented key means against the keys recorded for a host (from one file or several). */
export function verdictFor(keys: readonly KnownKey[], blob: Buffer): HostKeyVerdict {
  if (keys.some((key) => key.revoked && key.blob.equals(blob))) return { kind: 'revoked' };
  const live = keys.filter((key) => !key.revoked);
  if (live.some((key) => key.blob.equals(blob))) return { kind: 'match' };
  // The caller offers only the recorded key types (preferredHostKeyAlgorithms), so any other key
  // presented for a host we know is a changed key.
  if (live.length > 0) return { kind: 'changed', expected: live.map((key) => `${key.type} ${fingerprint(key.blob)}`) };
  return { kind: 'unknown' };
}

/**
 * Append to a known_hosts that is no regular file, as ssh does, without waiting on it: a FIFO
 * nobody reads would block the open (and the whole run) for ever, so it is opened non-blocking and
 * one with no reader keeps nothing, as /dev/null keeps nothing.
 */
function appendToSpecialFile(file: string, line: string): void {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') return;
    throw error;
  }
  try {
    writeSync(fd, line);
  } finally {
    closeSync(fd);
  }
}
