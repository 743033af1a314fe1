import { describe, expect, it } from 'vitest';
import { offerOrder, type FileIdentity, type OfferInput } from '../../src/transport/offer-order.js';
import type { UserCertificate } from '../../src/transport/user-certificate.js';

// ssh 9.2's order (sshconnect2.c pubkey_prepare) and signer choice (sign_and_send_pubkey), with
// keys reduced to names: what matters is which blob equals which.

const blob = (name: string): Buffer => Buffer.from(name);
const certificate = (name: string, of: string, file = `${name}.pub`): UserCertificate => ({ file, blob: blob(name), certificate: { key: blob(of) } } as unknown as UserCertificate);
const key = (file: string, name: string | undefined, loaded = true): FileIdentity => ({ file, loaded, ...(name ? { blob: blob(name) } : {}) });
const plan = (input: Partial<OfferInput>): string[] =>
  offerOrder({ files: [], certificateFiles: [], agent: [], identitiesOnly: false, ...input }).map(
    (offer) => `${offer.blob.toString()} by ${'agent' in offer.signer ? `agent:${offer.signer.agent.toString()}` : offer.signer.file}`,
  );

describe('the order ssh offers keys in', () => {
  it('without an agent: CertificateFile certificates, then each key file followed by its KEY-cert.pub', () => {
    expect(
      plan({
        files: [key('/k/a', 'A'), { file: '/k/a', loaded: true, certificate: certificate('A-cert', 'A') }, key('/k/b', 'B')],
        certificateFiles: [certificate('B-cert', 'B', '/c/b.cert')],
      }),
    ).toEqual(['B-cert by /k/b', 'A by /k/a', 'A-cert by /k/a', 'B by /k/b']);
  });

  it('the agent holds configured keys: those first, in the agent\'s order, signed by the agent; then its other keys; then the files it does not hold', () => {
    expect(plan({ files: [key('/k/a', 'A'), key('/k/b', 'B'), key('/k/c', 'C')], agent: [blob('X'), blob('C'), blob('Y'), blob('A')] })).toEqual([
      'C by agent:C',
      'A by agent:A',
      'X by agent:X',
      'Y by agent:Y',
      'B by /k/b',
    ]);
  });

  it('IdentitiesOnly: none of the agent\'s other keys', () => {
    expect(plan({ files: [key('/k/a', 'A'), key('/k/b', 'B')], agent: [blob('X'), blob('B')], identitiesOnly: true })).toEqual(['B by agent:B', 'A by /k/a']);
    expect(plan({ files: [], agent: [blob('X')], identitiesOnly: true })).toEqual([]);
  });

  it('a certificate whose key only the agent holds is offered and the agent signs it with the plain key', () => {
    // CertificateFile, no key file at all.
    expect(plan({ certificateFiles: [certificate('K-cert', 'K', '/c/k.cert')], agent: [blob('K')] })).toEqual(['K-cert by agent:K', 'K by agent:K']);
    // KEY-cert.pub beside a key file that cannot be opened (encrypted, no passphrase) whose .pub is readable.
    expect(plan({ files: [key('/k/e', 'E', false), { file: '/k/e', loaded: false, certificate: certificate('E-cert', 'E') }], agent: [blob('E')] })).toEqual([
      'E by agent:E',
      'E-cert by agent:E',
    ]);
    // Under IdentitiesOnly the agent's key is still the signer when an IdentityFile names it.
    expect(plan({ files: [key('/k/e', 'E', false)], certificateFiles: [certificate('E-cert', 'E', '/c/e.cert')], agent: [blob('E'), blob('X')], identitiesOnly: true })).toEqual([
      'E-cert by agent:E',
      'E by agent:E',
    ]);
  });

  it('a certificate the agent holds itself is signed as it is; one nothing can sign is left out', () => {
    expect(plan({ files: [key('/k/a', 'A', false), { file: '/k/a', loaded: false, certificate: certificate('A-cert', 'A') }], agent: [blob('A-cert')] })).toEqual(['A-cert by agent:A-cert']);
    expect(plan({ certificateFiles: [certificate('Z-cert', 'Z', '/c/z.cert')], files: [key('/k/e', 'E', false), key('/k/n', undefined, false)] })).toEqual([]);
  });
});
