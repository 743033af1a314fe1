import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { ParsedKey } from 'ssh2';

// ssh2 signs a login with the key's PEM text, which OpenSSL decodes again for every signature:
// for an ed25519 key about 0.44 ms a login here, against 0.04 ms for the signature itself with
// the key decoded once. A connection signs once, so a run pays it once per host. The key here is
// decoded when it is loaded and signs the same bytes ssh2 would.

/** The hash ssh2 signs with when the login's algorithm names none (its key parser's defaults). */
const defaultHash: Readonly<Record<string, string | null>> = {
  'ssh-ed25519': null,
  'ecdsa-sha2-nistp256': 'sha256',
  'ecdsa-sha2-nistp384': 'sha384',
  'ecdsa-sha2-nistp521': 'sha512',
  'ssh-rsa': 'sha1',
  'ssh-dss': 'sha1',
};

/**
 * The parsed private key, signing with a KeyObject decoded once. Everything else (its type, public
 * key, what ssh2 reads to know it as parsed) is the key's own, through the prototype. A key of a
 * type not listed, or one OpenSSL cannot decode, is returned as it is.
 */
export function signingWithDecodedKey(key: ParsedKey): ParsedKey {
  const hash = defaultHash[key.type];
  if (hash === undefined || !key.isPrivateKey()) return key;
  let decoded: KeyObject;
  try {
    decoded = createPrivateKey(key.getPrivatePEM());
  } catch {
    return key;
  }
  // ssh2 takes an Error returned, not thrown, as a failed signature (its own sign does the same).
  const signWithDecoded = (data: Buffer | string, algo?: string): Buffer | Error => {
    try {
      return sign(algo || hash, typeof data === 'string' ? Buffer.from(data) : data, decoded);
    } catch (error) {
      return error as Error;
    }
  };
  return Object.create(key, { sign: { value: signWithDecoded } }) as ParsedKey;
}
