import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHostCertificate, isCertificate, parseHostCertificate } from '../../src/transport/host-certificate.js';
import { checkHostKey, type RecordedHostKeys } from '../../src/transport/host-key-check.js';
import type { KnownKey } from '../../src/transport/known-hosts.js';
import { editedKex } from '../../src/transport/ssh2-host-certificates.js';
import { makeKey, publicKeyBlob, sign, type KeyKind } from '../support/host-certificates.js';

// The certificate checks on certificates made by the real ssh-keygen, the host key decision as a
// table, and the edit of ssh2's key exchange against the ssh2 that is installed. The same checks
// against the real sshd, with OpenSSH's client as the reference: test/integration/ssh-host-certificates.test.ts.

const NAME = 'web1.cluster.example';
const NOW = new Date();
let dir: string;
let hostKey: string;
const cas = new Map<KeyKind, string>();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lvsprov-certificate-unit-'));
  hostKey = makeKey(dir, 'host', 'ed25519');
  for (const kind of ['ed25519', 'ecdsa-256', 'ecdsa-384', 'rsa'] as const) cas.set(kind, makeKey(dir, `ca-${kind}`, kind));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const authority = (kind: KeyKind, revoked = false): KnownKey => ({ type: 'ca', blob: publicKeyBlob(`${cas.get(kind)}.pub`), revoked });
const certificateBlob = (caKind: KeyKind, options: Parameters<typeof sign>[2] = {}): Buffer =>
  publicKeyBlob(sign(cas.get(caKind) ?? '', `${hostKey}.pub`, { principals: [NAME], ...options }));
const context = (authorities: KnownKey[], keys: KnownKey[] = []) => ({ name: NAME, authorities, keys, files: '/k', now: NOW });

describe('parseHostCertificate', () => {
  it('reads every field ssh-keygen wrote, and the certified key is the plain host key', () => {
    const blob = certificateBlob('ed25519', { principals: [NAME, '192.0.2.10'], id: 'web1 host key', serial: 4242, validity: '20250101:20350101' });
    expect(isCertificate(blob)).toBe(true);
    expect(isCertificate(publicKeyBlob(`${hostKey}.pub`))).toBe(false);
    const certificate = parseHostCertificate(blob);
    expect(certificate).toMatchObject({ certType: 2, keyId: 'web1 host key', serial: 4242n, principals: [NAME, '192.0.2.10'], criticalOptions: [], signatureAlgorithm: 'ssh-ed25519' });
    expect(certificate.key.equals(publicKeyBlob(`${hostKey}.pub`))).toBe(true);
    expect(certificate.signatureKey.equals(publicKeyBlob(`${cas.get('ed25519')}.pub`))).toBe(true);
    expect(new Date(Number(certificate.validAfter) * 1000).getUTCFullYear()).toBe(2025);
    expect(new Date(Number(certificate.validBefore) * 1000).getUTCFullYear()).toBe(2035);
  });

  it('refuses a truncated certificate with the reason', () => {
    const blob = certificateBlob('ed25519');
    expect(() => parseHostCertificate(blob.subarray(0, blob.length - 10))).toThrow(/runs past the end/);
  });
});

describe('checkHostCertificate', () => {
  for (const kind of ['ed25519', 'ecdsa-256', 'ecdsa-384', 'rsa'] as const) {
    it(`verifies the signature of a ${kind} CA, and refuses the certificate with one byte changed`, () => {
      const blob = certificateBlob(kind, { id: 'signed-id' });
      expect(checkHostCertificate(blob, context([authority(kind)]))).toMatchObject({ kind: 'trusted' });
      const tampered = Buffer.from(blob);
      const at = tampered.indexOf('signed-id');
      tampered[at] = 'S'.charCodeAt(0);
      expect(checkHostCertificate(tampered, context([authority(kind)]))).toMatchObject({ kind: 'not-trusted', reason: expect.stringMatching(/the CA's signature does not verify/) });
    });
  }

  it('checks trust, type, signature algorithm, validity, principals and revocation, in that order of OpenSSH', () => {
    const good = certificateBlob('ed25519');
    expect(checkHostCertificate(good, context([authority('rsa')]))).toMatchObject({ kind: 'not-trusted', reason: expect.stringMatching(/no @cert-authority line for web1.cluster.example in \/k trusts that CA/) });
    expect(checkHostCertificate(good, context([authority('ed25519', true)]))).toMatchObject({ kind: 'not-trusted' });
    expect(checkHostCertificate(good, context([authority('ed25519')], [authority('ed25519', true)]))).toMatchObject({ kind: 'revoked', reason: expect.stringMatching(/the CA key is marked @revoked in \/k/) });
    const plainRevoked: KnownKey = { type: 'ssh-ed25519', blob: publicKeyBlob(`${hostKey}.pub`), revoked: true };
    expect(checkHostCertificate(good, context([authority('ed25519')], [plainRevoked]))).toMatchObject({ kind: 'revoked', reason: expect.stringMatching(/the certified key is marked @revoked/) });
    expect(checkHostCertificate(certificateBlob('ed25519', { host: false }), context([authority('ed25519')]))).toMatchObject({ reason: expect.stringMatching(/is a user certificate/) });
    expect(checkHostCertificate(certificateBlob('rsa', { signatureAlgorithm: 'ssh-rsa' }), context([authority('rsa')]))).toMatchObject({ reason: expect.stringMatching(/signed with ssh-rsa/) });
    expect(checkHostCertificate(certificateBlob('ed25519', { validity: '20200101:20200201' }), context([authority('ed25519')]))).toMatchObject({ reason: expect.stringMatching(/expired at 2020-02-01T00:00:00Z/) });
    expect(checkHostCertificate(certificateBlob('ed25519', { validity: '+1d:+2d' }), context([authority('ed25519')]))).toMatchObject({ reason: expect.stringMatching(/is not valid before/) });
    expect(checkHostCertificate(certificateBlob('ed25519', { principals: ['db1'] }), context([authority('ed25519')]))).toMatchObject({ reason: expect.stringMatching(/is not valid for web1.cluster.example \(its principals: db1\)/) });
    expect(checkHostCertificate(certificateBlob('ed25519', { principals: [] }), context([authority('ed25519')]))).toMatchObject({ kind: 'trusted' });
  });
});

describe('checkHostKey', () => {
  const active = { active: true } as const;
  const plain = (): Buffer => publicKeyBlob(`${hostKey}.pub`);
  const recorded = (keys: KnownKey[], authorities: KnownKey[]): RecordedHostKeys => ({ name: NAME, keys, authorities, files: '/k' });
  const policy = { acceptNew: false, certificates: active, now: NOW };

  it('decides as ssh(1) does', () => {
    const trusted = certificateBlob('ed25519');
    const expired = certificateBlob('ed25519', { validity: '20200101:20200201' });
    const known: KnownKey = { type: 'ssh-ed25519', blob: plain(), revoked: false };
    expect(checkHostKey(trusted, recorded([], [authority('ed25519')]), policy)).toEqual({ accept: true });
    // A certificate not accepted leaves the decision to its plain key.
    expect(checkHostKey(expired, recorded([known], [authority('ed25519')]), policy)).toEqual({ accept: true });
    expect(checkHostKey(expired, recorded([], [authority('ed25519')]), policy)).toMatchObject({ accept: false, reason: expect.stringMatching(/known there only through @cert-authority, and the host's certificate was not accepted: .*expired/) });
    // Recorded with --accept-new-host-keys: the plain key, never the certificate.
    expect(checkHostKey(expired, recorded([], [authority('ed25519')]), { ...policy, acceptNew: true })).toEqual({ accept: true, record: plain() });
    // A revoked CA is final, whatever else is recorded.
    expect(checkHostKey(trusted, recorded([known, authority('ed25519', true)], [authority('ed25519')]), policy)).toMatchObject({ accept: false, reason: expect.stringMatching(/^host refused: .*CA key is marked @revoked/) });
    expect(checkHostKey(plain(), recorded([], [authority('ed25519')]), policy)).toMatchObject({ reason: expect.stringMatching(/presented its plain key, no certificate \(is HostCertificate set/) });
    expect(checkHostKey(plain(), recorded([], [authority('ed25519')]), { ...policy, certificates: { active: false, reason: 'ssh2 9.9 is not the ssh2 lvsprov knows' } })).toMatchObject({
      reason: expect.stringMatching(/host certificates cannot be negotiated here \(ssh2 9.9 is not the ssh2 lvsprov knows\)/),
    });
    expect(checkHostKey(plain(), recorded([], []), policy)).toMatchObject({ reason: expect.stringMatching(/is not in \/k; check it and re-run with --accept-new-host-keys/) });
  });
});

describe('editedKex', () => {
  const require = createRequire(import.meta.url);
  const kex = readFileSync(join(dirname(require.resolve('ssh2/package.json')), 'lib/protocol/kex.js'), 'utf8');

  it('edits the installed ssh2 in every place it expects, and appends the helpers', () => {
    const edited = editedKex(kex);
    if (!('text' in edited)) throw new Error(edited.reason);
    expect(edited.text.split('switch (lvsprovSignatureAlgorithm(this.negotiated.serverHostKey)) {').length - 1).toBe(2);
    expect(edited.text).toContain('if (sigType !== lvsprovSignatureAlgorithm(negotiated.serverHostKey)) {');
    expect(edited.text).toContain('lvsprovIsCertificateOf(hostPubKeyType, this.negotiated.serverHostKey)');
    expect(edited.text).toContain('parsedHostKey = lvsprovParseHostKey(parseDERKey, hostKey, name);');
    expect(edited.text).toMatch(/module\.exports\.lvsprovHostCertificates = true;\n$/);
  });

  it('edits nothing in a kex.js where a line is not found as often as expected, and says which', () => {
    expect(editedKex(kex.replace('parsedHostKey = parseDERKey(hostKey, name);', 'parsedHostKey = parse(hostKey);'))).toEqual({
      reason: 'its kex.js holds `parsedHostKey = parseDERKey(hostKey, name);` 0 times, not 1',
    });
  });
});
