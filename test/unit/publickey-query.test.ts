import { PassThrough } from 'node:stream';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { skipPublickeyQuery } from '../../src/transport/publickey-query.js';
import { ed25519KeyPair } from '../support/ed25519-key.js';

// The real ssh2 client this package pins, connected to a stream that never answers: enough for
// connect() to build the protocol object whose authPK is replaced. What goes to the host is
// recorded by the authPK it had. The real sshd's side is in test/integration/publickey-query.test.ts.

type SignCallback = (data: Buffer, done: (signature: Buffer) => void) => void;
type AuthPK = (username: string, key: unknown, keyAlgo?: string, cbSign?: SignCallback) => void;
/** What ssh2's authPK would have sent: a query, a signed request, or (a callback that never called back) nothing. */
type Call = { readonly keyAlgo: string | undefined } & ({ readonly sent: 'query' | 'nothing' } | { readonly sent: 'signed'; readonly signature: Buffer });

function clientRecordingAuthPK(): { client: ssh2.Client; authPK: () => AuthPK; calls: Call[] } {
  const client = new ssh2.Client();
  client.on('error', () => undefined);
  client.connect({ sock: new PassThrough(), username: 'root' });
  const protocol = (client as unknown as { _protocol: { authPK: AuthPK } })._protocol;
  const calls: Call[] = [];
  protocol.authPK = (_username, _key, keyAlgo, cbSign) => {
    if (!cbSign) return void calls.push({ keyAlgo, sent: 'query' });
    // As ssh2's authPK does: the callback gets the bytes to sign, and the request goes out when it calls back.
    let signature: Buffer | undefined;
    cbSign(Buffer.from('session id and request'), (signed) => (signature = signed));
    calls.push(signature ? { keyAlgo, sent: 'signed', signature } : { keyAlgo, sent: 'nothing' });
  };
  return { client, authPK: () => protocol.authPK, calls };
}

function parsedKey(type: 'ed25519' | 'rsa'): ssh2.ParsedKey {
  const pair = type === 'rsa' ? ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 }) : ed25519KeyPair();
  const key = ssh2.utils.parseKey(pair.private);
  if (key instanceof Error || Array.isArray(key)) throw new Error('test key did not parse');
  return key;
}

describe('a public key login without the query', () => {
  it("replaces the authPK of ssh2's protocol in the version this package pins", () => {
    const { client, authPK } = clientRecordingAuthPK();
    const before = authPK();
    expect(skipPublickeyQuery(client)).toBe(true);
    expect(authPK()).not.toBe(before);
    client.end();
  });

  it('a private key in this process sends one signed request, and the signature verifies', () => {
    const { client, authPK, calls } = clientRecordingAuthPK();
    skipPublickeyQuery(client);
    const key = parsedKey('ed25519');
    authPK()('root', key, undefined);
    expect(calls.map((call) => call.sent)).toEqual(['signed']);
    const call = calls[0];
    expect(call?.sent === 'signed' && key.verify(Buffer.from('session id and request'), call.signature)).toBe(true);
    client.end();
  });

  it("an RSA key signs with the hash of the algorithm ssh2 chose from the host's server-sig-algs", () => {
    const { client, authPK, calls } = clientRecordingAuthPK();
    skipPublickeyQuery(client);
    const key = parsedKey('rsa');
    const data = Buffer.from('session id and request');
    for (const [algorithm, hash] of [['rsa-sha2-256', 'sha256'], ['rsa-sha2-512', 'sha512'], ['ssh-rsa', 'sha1']] as const) {
      authPK()('root', key, algorithm);
      const call = calls.at(-1);
      expect(call?.keyAlgo).toBe(algorithm);
      expect(call?.sent === 'signed' && key.verify(data, call.signature, hash)).toBe(true);
    }
    client.end();
  });

  it("an agent's key (public only) is asked about first, as ssh2 does", () => {
    const { client, authPK, calls } = clientRecordingAuthPK();
    skipPublickeyQuery(client);
    const publicOnly = ssh2.utils.parseKey(parsedKey('ed25519').getPublicSSH());
    authPK()('root', publicOnly, undefined);
    expect(calls).toEqual([{ keyAlgo: undefined, sent: 'query' }]);
    client.end();
  });

  it('a key that cannot sign is asked about instead, so ssh2 reports the failure its own way', () => {
    const { client, authPK, calls } = clientRecordingAuthPK();
    skipPublickeyQuery(client);
    const broken = Object.create(parsedKey('ed25519'), { sign: { value: () => new Error('no signature') } }) as ssh2.ParsedKey;
    authPK()('root', broken, undefined);
    expect(calls).toEqual([
      { keyAlgo: undefined, sent: 'nothing' },
      { keyAlgo: undefined, sent: 'query' },
    ]);
    client.end();
  });

  it('a signing callback already given (the answer to a query) is passed on as it came', () => {
    const { client, authPK, calls } = clientRecordingAuthPK();
    skipPublickeyQuery(client);
    const signature = Buffer.from('from ssh2');
    authPK()('root', parsedKey('ed25519'), undefined, (_data, done) => done(signature));
    expect(calls).toEqual([{ keyAlgo: undefined, sent: 'signed', signature }]);
    client.end();
  });

  it('a client whose connect() was not called is left as it is', () => {
    expect(skipPublickeyQuery(new ssh2.Client())).toBe(false);
  });
});
