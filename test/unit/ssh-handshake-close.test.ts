import { createServer, type Server, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { handshakeGate } from '../../src/transport/handshake-gate.js';
import { freshAfterMs, openClient } from '../../src/transport/ssh-client.js';
import { loopbackClient } from '../support/loopback-client.js';

// A host that closes the connection after its banner, before the SSH handshake is over (sshd's
// LoginGraceTime running out, a connection limit, a firewall). ssh2 then emits 'close' and no
// error, and stops its own timeout: a handshake that only waited for 'ready' or 'error' never
// settled, kept its slot of the handshake gate, and at 1000 hosts eight of them stalled a run for
// good. Real sockets on loopback and the real ssh2 client; the "host" is a server that sends an
// OpenSSH banner and hangs up.

const client = loopbackClient('lvsprov-handshake-close-');
afterAll(() => client.remove());

/** A server that sends an OpenSSH banner on each connection and closes it `afterMs` later. */
async function hangingUpHost(afterMs: number): Promise<{ server: Server; port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((socket: Socket) => {
    count += 1;
    socket.on('error', () => undefined);
    socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
    setTimeout(() => socket.destroy(), afterMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, connections: () => count };
}

const targetFor = client.target;

describe('a host that hangs up during the SSH handshake', () => {
  it('fails that host at once (not at the connect timeout, not never), and frees its handshake slot', async () => {
    const host = await hangingUpHost(100);
    try {
      const began = performance.now();
      await expect(openClient(targetFor(host.port), { acceptNewHostKeys: false })).rejects.toThrow(/h1 \(root@127\.0\.0\.1:\d+\): the host closed the connection during the SSH handshake/);
      expect(performance.now() - began).toBeLessThan(10_000);
      // Every slot is free again: a handshake passes the gate at once.
      expect(await Promise.race([handshakeGate.run(() => Promise.resolve('passed')), new Promise((resolve) => setTimeout(() => resolve('stuck'), 1000))])).toBe('passed');
    } finally {
      host.server.close();
    }
  }, 20_000);

  it('connects once more when the host hung up on a connection that waited long for its slot', async () => {
    const host = await hangingUpHost(100);
    const release = new Promise<void>((resolve) => setTimeout(resolve, freshAfterMs + 1_000));
    const holders = Array.from({ length: handshakeGate.limit }, () => handshakeGate.run(() => release));
    try {
      await expect(openClient(targetFor(host.port), { acceptNewHostKeys: false })).rejects.toThrow(/the host closed the connection during the SSH handshake/);
      // The first connection waited behind every slot and was closed by the host; the second was made after the wait.
      expect(host.connections()).toBe(2);
    } finally {
      await Promise.all(holders);
      host.server.close();
    }
  }, 30_000);
});

// sshd's LoginGraceTime runs from the TCP accept: a connection that queued long for its slot may be
// ended in the middle of its handshake (a reset, no word). So one that waited is made again when its
// turn comes, whether or not the host has hung up yet, and one that did not wait is used as it is.
describe('a connection that waited for its handshake slot', () => {
  /** A host that sends its banner and never ends a connection; the sockets it saw, with whether each was closed. */
  async function patientHost(): Promise<{ server: Server; port: number; sockets: Array<{ closed: boolean }> }> {
    const sockets: Array<{ closed: boolean }> = [];
    const server = createServer((socket: Socket) => {
      const seen = { closed: false };
      sockets.push(seen);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        seen.closed = true;
      });
      socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return { server, port: address.port, sockets };
  }

  it(`is replaced by a fresh one after ${freshAfterMs / 1000} s in the queue, though the host kept it open`, async () => {
    const host = await patientHost();
    const release = new Promise<void>((resolve) => setTimeout(resolve, freshAfterMs + 1_000));
    const holders = Array.from({ length: handshakeGate.limit }, () => handshakeGate.run(() => release));
    try {
      // The banner-only host never completes a handshake: the short timeout ends it once the fresh connection is in use.
      await expect(openClient({ ...targetFor(host.port), connectTimeoutMs: 1_500 }, { acceptNewHostKeys: false })).rejects.toThrow(/h1/);
      expect(host.sockets.length).toBe(2);
      // The queued connection was closed by lvsprov before the handshake, not left to the host's grace time.
      expect(host.sockets[0]?.closed).toBe(true);
    } finally {
      await Promise.all(holders);
      host.server.close();
    }
  }, 30_000);

  it('is used as it is when its slot came at once', async () => {
    const host = await patientHost();
    try {
      await expect(openClient({ ...targetFor(host.port), connectTimeoutMs: 1_500 }, { acceptNewHostKeys: false })).rejects.toThrow(/h1/);
      expect(host.sockets.length).toBe(1);
    } finally {
      host.server.close();
    }
  }, 30_000);

  it('is made only when its host is near the head of the queue: the rest wait unconnected', async () => {
    const host = await patientHost();
    const release = new Promise<void>((resolve) => setTimeout(resolve, 1_500));
    const holders = Array.from({ length: handshakeGate.limit }, () => handshakeGate.run(() => release));
    const hosts = 3 * handshakeGate.lookahead;
    try {
      const clients = Array.from({ length: hosts }, () => openClient({ ...targetFor(host.port), connectTimeoutMs: 1_500 }, { acceptNewHostKeys: false }).catch((error: Error) => error));
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Every slot is held: only the lookahead's hosts have a connection (each an sshd on a real host).
      expect(host.sockets.length).toBe(handshakeGate.lookahead);
      const outcomes = await Promise.all(clients);
      expect(outcomes.every((outcome) => outcome instanceof Error)).toBe(true);
      // Every host connected once: none waited long enough to be made again.
      expect(host.sockets.length).toBe(hosts);
    } finally {
      await Promise.all(holders);
      host.server.close();
    }
  }, 30_000);
});
