import ssh2 from 'ssh2';

/**
 * An ed25519 key pair from ssh2 that ssh2 itself can read back. ssh2 1.17.0's keygen strips
 * leading zero bytes from the public key, so about one pair in 256 is malformed (mscdex/ssh2
 * issues 1390 and 1513): a test that used such a key as a server's host key failed at random.
 */
export function ed25519KeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error) && !(ssh2.utils.parseKey(pair.public) instanceof Error)) return pair;
  }
}
