import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ConnectInterruptedError } from '../../src/errors.js';
import { handshakeGate } from '../../src/transport/handshake-gate.js';
import { openClient, type ClientTarget } from '../../src/transport/ssh-client.js';
import { loopbackClient } from '../support/loopback-client.js';

// An interrupt gives up a connection still being made, wherever it is: queued for a handshake
// slot or in its handshake with a host that answers slowly. Without it, Ctrl-C during an apply
// or a status waited for every pending connect's timeout (up to 600 s). Real sockets on loopback
// and the real ssh2 client; the "host" sends an OpenSSH banner and then nothing. A TCP connect
// that no host answers is in test/integration/run-safety.test.ts (a real sshd behind a drop rule).

const client = loopbackClient('lvsprov-connect-interrupt-');
afterAll(() => client.remove());

/** A host that sends its banner and waits; `closed` counts the connections the client ended. */
async function silentHost(): Promise<{ server: Server; port: number; connections: () => number; closed: () => number }> {
  let connections = 0;
  let closed = 0;
  const server = createServer((socket: Socket) => {
    connections += 1;
    socket.on('error', () => undefined);
    socket.on('close', () => (closed += 1));
    // Read (and drop) what the client sends, so that its end is seen.
    socket.resume();
    socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, connections: () => connections, closed: () => closed };
}

const targetFor = (port: number): ClientTarget => ({ ...client.target(port), connectTimeoutMs: 120_000 });

const until = async (what: string, check: () => boolean): Promise<void> => {
  for (let tries = 0; tries < 200 && !check(); tries++) await new Promise((resolve) => setTimeout(resolve, 25));
  if (!check()) throw new Error(`waited for ${what}`);
};

/** Open a connection to `host`, interrupt it once connected over TCP, and see it given up and closed. */
async function interruptOnceConnected(host: Awaited<ReturnType<typeof silentHost>>): Promise<AbortSignal> {
  const interrupt = new AbortController();
  const opening = openClient(targetFor(host.port), { acceptNewHostKeys: false, interrupt: interrupt.signal });
  await until('the connection', () => host.connections() === 1);
  interrupt.abort();
  await expect(opening).rejects.toBeInstanceOf(ConnectInterruptedError);
  await expect(opening).rejects.toThrow('h1: interrupted while connecting; nothing was run on the host');
  await until('the host to see the connection closed', () => host.closed() === 1);
  return interrupt.signal;
}

describe('a connection still being made when the run is interrupted', () => {
  it('is given up at once in its handshake, its socket closed and its slot free, not at its 120 s timeout', async () => {
    const host = await silentHost();
    try {
      await interruptOnceConnected(host);
      // Every slot is free again.
      const slots = await Promise.all(Array.from({ length: handshakeGate.limit }, () => handshakeGate.run(async () => 'ran')));
      expect(slots).toHaveLength(handshakeGate.limit);
    } finally {
      host.server.close();
    }
  });

  it('leaves the queue for a handshake slot at once, and never connects once interrupted', async () => {
    const host = await silentHost();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holders = Array.from({ length: handshakeGate.limit }, () => handshakeGate.run(() => held));
    try {
      // Connected over TCP, and queued behind the slots the test holds.
      const interrupted = await interruptOnceConnected(host);
      await expect(openClient(targetFor(host.port), { acceptNewHostKeys: false, interrupt: interrupted })).rejects.toBeInstanceOf(ConnectInterruptedError);
      expect(host.connections()).toBe(1);
    } finally {
      release();
      await Promise.all(holders);
      host.server.close();
    }
  });
});
