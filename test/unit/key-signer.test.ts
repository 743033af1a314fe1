import ssh2, { type ParsedKey } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { signingWithDecodedKey } from '../../src/transport/key-signer.js';
import { ed25519KeyPair } from '../support/ed25519-key.js';

// The key lvsprov logs in with signs through a KeyObject decoded once instead of ssh2's PEM text.
// A login's signature must be the one ssh2 would have made: byte for byte where the scheme is
// deterministic (ed25519, RSA PKCS#1 v1.5), and verified by the public key where it is not (ECDSA).

function parsed(privatePem: string): ParsedKey {
  const key = ssh2.utils.parseKey(privatePem);
  if (key instanceof Error || Array.isArray(key)) throw new Error('test key did not parse');
  return key;
}

const data = Buffer.from('session identifier and userauth request');

const keys: ReadonlyArray<readonly [string, () => string, ReadonlyArray<string | undefined>, boolean]> = [
  ['ed25519', () => ed25519KeyPair().private, [undefined], true],
  ['rsa 2048', () => ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 }).private, [undefined, 'sha256', 'sha512'], true],
  ['ecdsa 256', () => ssh2.utils.generateKeyPairSync('ecdsa', { bits: 256 }).private, [undefined], false],
  ['ecdsa 384', () => ssh2.utils.generateKeyPairSync('ecdsa', { bits: 384 }).private, [undefined], false],
  ['ecdsa 521', () => ssh2.utils.generateKeyPairSync('ecdsa', { bits: 521 }).private, [undefined], false],
];

describe('signingWithDecodedKey', () => {
  for (const [name, generate, algorithms, deterministic] of keys) {
    it(`signs as ssh2 would with a ${name} key`, () => {
      const original = parsed(generate());
      const signing = signingWithDecodedKey(original);
      expect(signing.sign).not.toBe(original.sign);
      for (const algo of algorithms) {
        const signature = signing.sign(data, algo);
        expect(signature).toBeInstanceOf(Buffer);
        expect(original.verify(data, signature, algo)).toBe(true);
        if (deterministic) expect(signature.equals(original.sign(data, algo))).toBe(true);
      }
      // A signature over other data does not verify: the check above can fail.
      expect(original.verify(Buffer.from('other data'), signing.sign(data, algorithms[0]), algorithms[0])).toBe(false);
    });
  }

  it('is still the parsed key to ssh2: its type, public key, and no second parse', () => {
    const original = parsed(ed25519KeyPair().private);
    const signing = signingWithDecodedKey(original);
    expect(ssh2.utils.parseKey(signing as never)).toBe(signing);
    expect(signing.type).toBe('ssh-ed25519');
    expect(signing.isPrivateKey()).toBe(true);
    expect(signing.getPublicSSH().equals(original.getPublicSSH())).toBe(true);
  });

  it('returns an error, as ssh2 does, for a hash the key cannot sign with', () => {
    const signing = signingWithDecodedKey(parsed(ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 }).private));
    expect(signing.sign(data, 'no-such-hash')).toBeInstanceOf(Error);
  });

  it('leaves a public key as it is', () => {
    const publicKey = parsed(ed25519KeyPair().public);
    expect(signingWithDecodedKey(publicKey)).toBe(publicKey);
  });
});
