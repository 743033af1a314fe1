import type { Client } from 'ssh2';

// A public key login can take two round trips or one. The client may first ask whether the host
// would accept a key (a "query", RFC 4252 section 7), and sign only after the host said yes; or
// it may send the signed request at once, which the host accepts or refuses the same way. ssh2
// always asks first. For a key read from a file the signature costs the control node about 0.04
// ms (key-signer.ts), and the question costs the host a lookup in authorized_keys (through
// sshd's privilege separation, once more for the signed request) and the login a round trip.
// Asking first pays off only where signing is dear or visible: an agent's key (a round trip to
// the agent, a confirmation prompt with `ssh-add -c`), so those keep the question.
//
// The signed request also leaves the host one packet fewer to write after the login. sshd writes
// without TCP_NODELAY for a session with no terminal, and each key it checks sends the client a
// debug message ("key options: ...") once the login is done; a second one can make the session
// channel's confirmation wait for the client's delayed acknowledgement (up to 40 ms on Linux).
// 100 logins in a row to one sshd took 79-92 ms each signed at once, 124-137 ms with the query.
//
// ssh2 has no option for this. Its client starts a key's login with its protocol's authPK(user,
// key, algorithm) and passes a signing callback only after the host's USERAUTH_PK_OK; authPK is
// replaced here, on the protocol object connect() made, by one that passes the callback at once
// for a private key in this process. A key that fails to sign is asked about as before, so ssh2
// reports the failure its own way. test/integration/publickey-query.test.ts reads a real sshd's
// log for it.

/** The hash of each RSA signature algorithm, as ssh2 pairs them; other keys sign with their own. */
const rsaHash: Readonly<Record<string, string>> = { 'rsa-sha2-256': 'sha256', 'rsa-sha2-512': 'sha512', 'ssh-rsa': 'sha1' };

interface SigningKey {
  isPrivateKey(): boolean;
  sign(data: Buffer, hash?: string): Buffer | Error;
}

type SignCallback = (data: Buffer, done: (signature: Buffer) => void) => void;
type AuthPK = (username: string, key: unknown, keyAlgo?: string | SignCallback, cbSign?: SignCallback) => void;

interface ClientInternals {
  readonly _protocol?: { authPK?: AuthPK };
}

const isPrivateKey = (key: unknown): key is SigningKey =>
  typeof key === 'object' &&
  key !== null &&
  typeof (key as Partial<SigningKey>).sign === 'function' &&
  typeof (key as Partial<SigningKey>).isPrivateKey === 'function' &&
  (key as SigningKey).isPrivateKey();

/**
 * Sign a private key's login request at once on a client whose connect() has been called; false
 * when ssh2's internals are not where this version of it keeps them (the login then asks first,
 * as ssh2 does by default).
 */
export function skipPublickeyQuery(client: Client): boolean {
  const protocol = (client as unknown as ClientInternals)._protocol;
  const authPK = protocol?.authPK;
  if (!protocol || typeof authPK !== 'function') return false;
  protocol.authPK = function signedAtOnce(this: unknown, username, key, keyAlgo, cbSign) {
    if (cbSign !== undefined || typeof keyAlgo === 'function' || !isPrivateKey(key)) return authPK.call(this, username, key, keyAlgo, cbSign);
    const hash = keyAlgo === undefined ? undefined : rsaHash[keyAlgo];
    let signature: Buffer | Error | undefined;
    // authPK hands over the bytes to sign synchronously; only a good signature is sent.
    const probe: SignCallback = (data, done) => {
      signature = key.sign(data, hash);
      if (Buffer.isBuffer(signature)) done(signature);
    };
    authPK.call(this, username, key, keyAlgo, probe);
    if (!Buffer.isBuffer(signature)) authPK.call(this, username, key, keyAlgo);
  };
  return true;
}
