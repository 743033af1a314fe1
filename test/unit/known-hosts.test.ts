import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, constants, lstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, KnownHosts, knownHostsKey, preferredHostKeyAlgorithms } from '../../src/transport/known-hosts.js';

// known_hosts files written and hashed by OpenSSH's own ssh-keygen, read back by lvsprov.

let dir: string;
const keys: Record<string, { line: string; blob: Buffer; fingerprint: string }> = {};

function makeKey(name: string, type: 'ed25519' | 'rsa'): void {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', file]);
  const line = readFileSync(`${file}.pub`, 'utf8').trim();
  const [, data = ''] = line.split(' ');
  const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
  keys[name] = { line, blob: Buffer.from(data, 'base64'), fingerprint: printed };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lvsprov-known-hosts-'));
  makeKey('a', 'ed25519');
  makeKey('b', 'ed25519');
  makeKey('r', 'rsa');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(lines: string[]): KnownHosts {
  const file = join(dir, `known_hosts_${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return new KnownHosts(file);
}

const keyPart = (name: string): string => keys[name]?.line.split(' ').slice(0, 2).join(' ') ?? '';

describe('known_hosts', () => {
  it('computes the same SHA256 fingerprint as ssh-keygen -l', () => {
    expect(fingerprint(keys.a?.blob as Buffer)).toBe(keys.a?.fingerprint);
  });

  it('matches plain entries, [host]:port entries and comma lists', () => {
    const known = write([`192.0.2.11,rs1 ${keyPart('a')}`, `[192.0.2.12]:2222 ${keyPart('b')}`]);
    expect(known.verdict('192.0.2.11', 22, keys.a?.blob as Buffer)).toEqual({ kind: 'match' });
    expect(known.verdict('192.0.2.12', 2222, keys.b?.blob as Buffer)).toEqual({ kind: 'match' });
    expect(known.verdict('192.0.2.12', 22, keys.b?.blob as Buffer)).toEqual({ kind: 'unknown' });
  });

  it('looks a HostKeyAlias up as it is, on no port, and a host name lowercased on its port, as ssh(1) does', () => {
    expect(knownHostsKey('RS1.Example.com', 2222)).toEqual({ name: 'rs1.example.com', port: 2222 });
    expect(knownHostsKey('192.0.2.12', 2222, 'Forwarded-RS1')).toEqual({ name: 'Forwarded-RS1', port: 22 });
    const known = write([`Forwarded-RS1 ${keyPart('a')}`, `[192.0.2.12]:2222 ${keyPart('b')}`]);
    const alias = knownHostsKey('192.0.2.12', 2222, 'Forwarded-RS1');
    expect(known.verdict(alias.name, alias.port, keys.a?.blob as Buffer)).toEqual({ kind: 'match' });
    const plain = knownHostsKey('192.0.2.12', 2222);
    expect(known.verdict(plain.name, plain.port, keys.b?.blob as Buffer)).toEqual({ kind: 'match' });
  });

  it('matches entries hashed by ssh-keygen -H', () => {
    const known = write([`192.0.2.11 ${keyPart('a')}`, `[192.0.2.12]:2222 ${keyPart('b')}`]);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', known.file], { stdio: 'ignore' });
    expect(readFileSync(known.file, 'utf8')).not.toContain('192.0.2.11');
    expect(known.verdict('192.0.2.11', 22, keys.a?.blob as Buffer)).toEqual({ kind: 'match' });
    expect(known.verdict('192.0.2.12', 2222, keys.b?.blob as Buffer)).toEqual({ kind: 'match' });
  });

  it('reports a changed key with the recorded fingerprints', () => {
    const known = write([`192.0.2.11 ${keyPart('a')}`]);
    expect(known.verdict('192.0.2.11', 22, keys.b?.blob as Buffer)).toEqual({ kind: 'changed', expected: [`ssh-ed25519 ${keys.a?.fingerprint}`] });
  });

  it('honours wildcards, negation and @revoked', () => {
    const known = write([`192.0.2.*,!192.0.2.13 ${keyPart('a')}`, `@revoked * ${keyPart('b')}`]);
    expect(known.verdict('192.0.2.99', 22, keys.a?.blob as Buffer)).toEqual({ kind: 'match' });
    expect(known.verdict('192.0.2.13', 22, keys.a?.blob as Buffer)).toEqual({ kind: 'unknown' });
    expect(known.verdict('198.51.100.1', 22, keys.b?.blob as Buffer)).toEqual({ kind: 'revoked' });
  });

  it('records a new key hashed, so that ssh-keygen -F finds it, and keeps the existing lines', async () => {
    const known = write([`192.0.2.11 ${keyPart('a')}`]);
    await Promise.all([known.add('192.0.2.12', 22, keys.b?.blob as Buffer, true), known.add('192.0.2.13', 2222, keys.r?.blob as Buffer, true)]);
    expect(readFileSync(known.file, 'utf8').split('\n').slice(1, 3).map((line) => line.split(' ')[0])).toEqual([expect.stringMatching(/^\|1\|/), expect.stringMatching(/^\|1\|/)]);
    expect(known.verdict('192.0.2.11', 22, keys.a?.blob as Buffer)).toEqual({ kind: 'match' });
    expect(known.verdict('192.0.2.12', 22, keys.b?.blob as Buffer)).toEqual({ kind: 'match' });
    expect(known.verdict('192.0.2.13', 2222, keys.r?.blob as Buffer)).toEqual({ kind: 'match' });
    const found = execFileSync('ssh-keygen', ['-F', '[192.0.2.13]:2222', '-f', known.file], { encoding: 'utf8' });
    expect(found).toContain(keys.r?.line.split(' ')[1]);
  });

  it('records a new key with its name as it is without HashKnownHosts, as ssh writes it: `name type key`, `[name]:port` off port 22', async () => {
    const known = write([`192.0.2.11 ${keyPart('a')}`]);
    await known.add('192.0.2.12', 22, keys.b?.blob as Buffer, false);
    await known.add('web1.example', 2222, keys.r?.blob as Buffer, false);
    expect(readFileSync(known.file, 'utf8')).toBe(`192.0.2.11 ${keyPart('a')}\n192.0.2.12 ${keyPart('b')}\n[web1.example]:2222 ${keyPart('r')}\n`);
    // ssh-keygen -F finds each under the name ssh looks up, and says it is not hashed.
    expect(execFileSync('ssh-keygen', ['-F', '[web1.example]:2222', '-f', known.file], { encoding: 'utf8' })).toContain(`[web1.example]:2222 ${keyPart('r')}`);
  });

  it('records through a symlink, keeps the mode, and appends to what is not a regular file (UserKnownHostsFile /dev/null), as ssh does', async () => {
    const real = join(dir, 'real_known_hosts');
    writeFileSync(real, `192.0.2.11 ${keyPart('a')}\n`);
    chmodSync(real, 0o640);
    const link = join(dir, 'linked_known_hosts');
    symlinkSync(real, link);
    await new KnownHosts(link).add('192.0.2.12', 22, keys.b?.blob as Buffer, false);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe(`192.0.2.11 ${keyPart('a')}\n192.0.2.12 ${keyPart('b')}\n`);
    expect(statSync(real).mode & 0o777).toBe(0o640);
    // A FIFO stands for /dev/null (a file that is no regular one): it must stay what it is, and
    // get the line as ssh's append gives it.
    const fifo = join(dir, 'known_hosts_fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      await new KnownHosts(fifo).add('192.0.2.13', 22, keys.a?.blob as Buffer, false);
      expect(lstatSync(fifo).isFIFO()).toBe(true);
      const got = Buffer.alloc(4096);
      expect(got.subarray(0, readSync(reader, got)).toString()).toBe(`192.0.2.13 ${keyPart('a')}\n`);
    } finally {
      closeSync(reader);
    }
    // A FIFO nobody reads takes nothing and never holds the run up.
    const unread = join(dir, 'known_hosts_unread_fifo');
    execFileSync('mkfifo', [unread]);
    await new KnownHosts(unread).add('192.0.2.14', 22, keys.a?.blob as Buffer, false);
    expect(lstatSync(unread).isFIFO()).toBe(true);
  });

  it('a device (/dev/null, the usual "remember nothing") holds no keys and is never replaced by a file; /dev/zero is not read', async () => {
    const device = join(dir, 'null');
    execFileSync('mknod', [device, 'c', '1', '3']);
    const known = new KnownHosts(device);
    await known.add('192.0.2.12', 22, keys.b?.blob as Buffer, true);
    expect(statSync(device).isCharacterDevice()).toBe(true);
    expect(known.lookup('192.0.2.12', 22)).toEqual({ keys: [], authorities: [] });
    expect(new KnownHosts('/dev/zero').lookup('192.0.2.12', 22)).toEqual({ keys: [], authorities: [] });
  });

  it('looks a host up once for its keys and the CAs that sign for it; a missing file knows nothing', () => {
    const known = write([`192.0.2.11 ${keyPart('a')}`, `@cert-authority *.cluster.example ${keyPart('b')}`, `@cert-authority 192.0.2.* ${keyPart('r')}`]);
    const found = known.lookup('192.0.2.11', 22);
    expect(found.keys.map((key) => key.blob)).toEqual([keys.a?.blob]);
    expect(found.authorities.map((key) => key.blob)).toEqual([keys.r?.blob]);
    expect(known.lookup('web1.cluster.example', 22)).toEqual({ keys: [], authorities: [expect.objectContaining({ blob: keys.b?.blob })] });
    expect(new KnownHosts(join(dir, 'no-such-known_hosts')).lookup('192.0.2.11', 22)).toEqual({ keys: [], authorities: [] });
  });

  it('offers the recorded key types first so that a known host negotiates its known key', () => {
    const known = write([`192.0.2.11 ${keyPart('r')}`]);
    expect(preferredHostKeyAlgorithms(known.keysFor('192.0.2.11', 22))).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(preferredHostKeyAlgorithms([])).toBeUndefined();
  });

  it('reads a file again once it changed on disk, and keeps file order across indexed and scanned lines', () => {
    const known = write([`192.0.2.11 ${keyPart('a')}`]);
    expect(known.verdict('192.0.2.11', 22, keys.b?.blob as Buffer).kind).toBe('changed');
    // Rewritten as ssh-keygen -R and a new login would leave it: a different key for the host.
    writeFileSync(known.file, `192.0.2.*,!192.0.2.99 ${keyPart('r')}\nRS1.example,192.0.2.11 ${keyPart('b')}\n`);
    expect(known.verdict('192.0.2.11', 22, keys.b?.blob as Buffer)).toEqual({ kind: 'match' });
    expect(known.keysFor('192.0.2.11', 22).map((key) => key.type)).toEqual(['ssh-rsa', 'ssh-ed25519']);
    expect(known.keysFor('rs1.EXAMPLE', 22).map((key) => key.type)).toEqual(['ssh-ed25519']);
    expect(known.keysFor('192.0.2.99', 22)).toEqual([]);
  });
});
