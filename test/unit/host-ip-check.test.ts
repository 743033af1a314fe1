import { describe, expect, it } from 'vitest';
import { checkHostIp, addressToCheck } from '../../src/transport/host-ip-check.js';
import type { KnownKey } from '../../src/transport/known-hosts.js';

// CheckHostIP's decision as a table; against real sshd and OpenSSH's client: test/integration/ssh-config.test.ts.

const blob = (type: string, body: string): Buffer => {
  const name = Buffer.from(type);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  return Buffer.concat([length, name, Buffer.from(body)]);
};
const known = (type: string, body: string, revoked = false): KnownKey => ({ type, blob: blob(type, body), revoked });
const presented = blob('ssh-ed25519', 'host');
const context = { name: 'lvs1.example.net', address: '192.0.2.7', files: '/k' };

describe('checkHostIp', () => {
  it('accepts the key recorded for the address, and records one for an address with no key of that type', () => {
    expect(checkHostIp(presented, [known('ssh-ed25519', 'host')], context)).toEqual({ accept: true, record: false });
    expect(checkHostIp(presented, [], context)).toEqual({ accept: true, record: true });
    // Another type recorded for the address says nothing of this one, as in ssh.
    expect(checkHostIp(presented, [known('ssh-rsa', 'other')], context)).toEqual({ accept: true, record: true });
  });

  it('refuses a key that differs from the one recorded for the address, or one revoked there, naming both keys', () => {
    expect(checkHostIp(presented, [known('ssh-ed25519', 'other')], context)).toMatchObject({
      accept: false,
      reason: expect.stringMatching(/^the ssh-ed25519 host key for lvs1\.example\.net \(SHA256:\S+\) differs from the key for the IP address 192\.0\.2\.7 in \/k \(SHA256:\S+\); CheckHostIP yes refuses it/),
    });
    expect(checkHostIp(presented, [known('ssh-ed25519', 'host', true)], context)).toMatchObject({ accept: false, reason: expect.stringMatching(/is marked @revoked for the IP address 192\.0\.2\.7/) });
  });

  it('StrictHostKeyChecking no: a key that differs from the address\'s is a warning and the login goes on, recording nothing; yes, accept-new and ask refuse it', () => {
    expect(checkHostIp(presented, [known('ssh-ed25519', 'other')], { ...context, strict: 'no' })).toEqual({
      accept: true,
      record: false,
      warning: expect.stringMatching(/^the ssh-ed25519 host key for lvs1\.example\.net \(SHA256:\S+\) differs from the key for the IP address 192\.0\.2\.7 in \/k \(SHA256:\S+\); StrictHostKeyChecking no: going on, as ssh does$/),
    });
    for (const strict of ['yes', 'accept-new', 'ask'] as const) {
      expect(checkHostIp(presented, [known('ssh-ed25519', 'other')], { ...context, strict })).toMatchObject({ accept: false, reason: expect.stringContaining(`(StrictHostKeyChecking ${strict})`) });
    }
  });

  it('checks an address only where ssh does: not the HostName itself, not loopback, not a stream without one', () => {
    expect(addressToCheck('lvs1.example.net', '192.0.2.7')).toBe('192.0.2.7');
    expect(addressToCheck('lvs1.example.net', '::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressToCheck('192.0.2.7', '192.0.2.7')).toBeUndefined();
    expect(addressToCheck('192.0.2.7', '::ffff:192.0.2.7')).toBeUndefined();
    expect(addressToCheck('localhost', '127.0.0.1')).toBeUndefined();
    expect(addressToCheck('localhost', '::1')).toBeUndefined();
    expect(addressToCheck('lvs1.example.net', undefined)).toBeUndefined();
  });
});
