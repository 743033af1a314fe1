import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import type { Client } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { keepalivePings, watchSilence } from '../../src/transport/silence-watch.js';

// A host is given up when nothing at all has come from it for interval x (countMax + 1), not when
// its replies to the pings are late: on a slow link they queue behind the data it is sending.

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function watched(alive: { intervalMs: number; countMax: number }): { sock: PassThrough; errors: Array<Error & { level?: string }>; client: Client } {
  const client = new EventEmitter() as unknown as Client;
  const sock = new PassThrough();
  const errors: Array<Error & { level?: string }> = [];
  client.on('error', (error: Error & { level?: string }) => errors.push(error));
  sock.on('close', () => client.emit('close'));
  watchSilence(client, sock, alive);
  return { sock, errors, client };
}

describe('watchSilence', () => {
  it('keeps a host that sends data, however late its ping replies, and gives up one that sends nothing', async () => {
    const alive = { intervalMs: 40, countMax: 2 };
    const talking = watched(alive);
    const silent = watched(alive);
    // 400 ms, three times the 120 ms limit: one host sends a byte every 30 ms, the other nothing.
    for (let i = 0; i < 13; i++) {
      talking.sock.write('x');
      await sleep(30);
    }
    expect(talking.errors).toEqual([]);
    expect(talking.sock.destroyed).toBe(false);
    expect(silent.errors.map((error) => [error.level, error.message])).toEqual([['client-timeout', 'Keepalive timeout']]);
    expect(silent.sock.destroyed).toBe(true);
    talking.sock.destroy();
  });

  it('gives up a host that goes quiet after talking, once the limit has passed since its last byte', async () => {
    const { sock, errors } = watched({ intervalMs: 30, countMax: 1 });
    sock.write('x');
    await sleep(40);
    sock.write('x');
    const quiet = performance.now();
    while (errors.length === 0 && performance.now() - quiet < 1000) await sleep(5);
    expect(errors).toHaveLength(1);
    // Not before 60 ms of silence (2 x 30), and within one more interval of it (and some slack).
    expect(performance.now() - quiet).toBeGreaterThanOrEqual(55);
  });

  it('does not count a stall of this process as the host being silent: its bytes wait unread in the kernel meanwhile', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    // Another process is the host: a byte every 50 ms for 1.5 s, then nothing, the connection open.
    const host = spawn(process.execPath, ['-e', `const s = require('net').connect(${port}, '127.0.0.1', () => { const t = setInterval(() => s.write('x'), 50); setTimeout(() => clearInterval(t), 1500); }); setTimeout(() => s.destroy(), 5000);`]);
    try {
      const [sock] = (await once(server, 'connection')) as [Socket];
      const talking = performance.now();
      const client = new EventEmitter() as unknown as Client;
      const errors: Error[] = [];
      client.on('error', (error: Error) => errors.push(error));
      watchSilence(client, sock, { intervalMs: 100, countMax: 1 });
      let lastByte = talking;
      sock.on('data', () => (lastByte = performance.now()));
      // The event loop held up for 1 s, five times the limit, while the host keeps talking.
      while (performance.now() - talking < 1000);
      await sleep(300);
      expect(errors).toEqual([]);
      // Once the host really stops, it is given up: 200 ms of silence and at most an interval more.
      while (errors.length === 0 && performance.now() - talking < 4000) await sleep(10);
      expect(errors.map((error) => error.message)).toEqual(['Keepalive timeout']);
      // Measured from the host's last byte: its 1.5 s began at its own connect, before this side
      // saw the connection, so `talking` is later than the host's start by a loaded machine's delay.
      expect(performance.now() - lastByte).toBeGreaterThanOrEqual(195);
      expect(lastByte - talking).toBeGreaterThanOrEqual(1000);
      expect(sock.destroyed).toBe(true);
    } finally {
      host.kill();
      server.close();
    }
  });

  it('a host silent through a stall of this process is given up only once it stays silent while listened to', async () => {
    const { errors } = watched({ intervalMs: 100, countMax: 1 });
    const stalled = performance.now();
    while (performance.now() - stalled < 1000);
    await sleep(30);
    expect(errors).toEqual([]);
    const listened = performance.now();
    while (errors.length === 0 && performance.now() - listened < 2000) await sleep(10);
    expect(errors).toHaveLength(1);
    expect(performance.now() - listened).toBeLessThan(400);
  });

  it('watches nothing when keepalives are off (interval 0), and lets ssh2 send pings without ever giving up itself', async () => {
    const { sock, errors } = watched({ intervalMs: 0, countMax: 3 });
    await sleep(50);
    expect(errors).toEqual([]);
    sock.destroy();
    expect(keepalivePings({ intervalMs: 10_000, countMax: 3 })).toEqual({ keepaliveInterval: 10_000, keepaliveCountMax: Number.MAX_SAFE_INTEGER });
  });
});
