import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519KeyPair } from '../support/ed25519-key.js';
import ssh2, { type AuthContext, type Connection, type Server } from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { ConnectError, ConnectionLostError } from '../../src/errors.js';
import { serverAliveDefaults } from '../../src/transport/server-alive.js';
import { JumpPool, openSession } from '../../src/transport/ssh-session.js';
import type { ConnectionTarget, JumpTarget } from '../../src/transport/types.js';

// A host behind a jump host that cannot reach it costs at most its connect timeout, the channel
// through the jump host included. A host reached through a jump host loses its connection when
// the jump connection goes. Its
// message says so, and why the jump connection went; the next host opens the jump again. Real
// ssh2 servers on loopback: a jump that forwards direct-tcpip channels, and a host whose exec
// never ends (a long script).

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-jump-lost-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const clientKey = join(dir, 'id_ed25519');
writeFileSync(clientKey, ed25519KeyPair().private, { mode: 0o600 });
const hostKey = ed25519KeyPair();
const knownHosts = join(dir, 'known_hosts');


async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function acceptAnyKey(client: Connection): void {
  client.on('authentication', (context: AuthContext) => (context.method === 'publickey' ? context.accept() : context.reject(['publickey'])));
  client.on('error', () => undefined);
}

/**
 * A jump host: forwards every direct-tcpip channel to its destination `delayMs` after it was
 * asked, or never answers the open (Infinity: what sshd does while its own connect to a host
 * whose link is down goes unanswered); `clients` are its live connections. OpenSSH's sshd sends
 * EOF on the channel when the destination's socket ends, and closes the channel only once the
 * client's side ended too (channels.c: the input and output halves close apart).
 */
function jumpServer(delayMs = 0): { server: Server; clients: Connection[] } {
  const clients: Connection[] = [];
  const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client: Connection) => {
    clients.push(client);
    acceptAnyKey(client);
    client.on('ready', () => {
      client.on('tcpip', (accept, _reject, info) => {
        if (delayMs === Infinity) return;
        setTimeout(() => {
          const channel = accept();
          const socket = connect(info.destPort, info.destIP);
          socket.on('error', () => undefined);
          let ended = { host: false, client: false };
          const closeOnceBoth = (side: 'host' | 'client'): void => {
            ended = { ...ended, [side]: true };
            if (ended.host && ended.client) channel.close();
          };
          channel.pipe(socket);
          socket.pipe(channel, { end: false });
          socket.on('end', () => (channel.eof(), closeOnceBoth('host')));
          channel.on('end', () => closeOnceBoth('client'));
        }, delayMs);
      });
    });
  });
  return { server, clients };
}

/** A host whose exec runs until the connection goes; `onExec` is told as one starts, with the connection. */
function slowHost(onExec: (client: Connection) => void = () => undefined): Server {
  return new ssh2.Server({ hostKeys: [hostKey.private] }, (client: Connection) => {
    acceptAnyKey(client);
    client.on('ready', () => {
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec) => {
          acceptExec();
          onExec(client);
        });
      });
    });
  });
}

const endpoint = (port: number) => ({
  address: '127.0.0.1',
  port,
  user: 'root',
  privateKeys: [clientKey],
  knownHostsFiles: [knownHosts],
  globalKnownHostsFiles: [],
  connectTimeoutMs: 10_000,
  serverAlive: serverAliveDefaults,
});

/** `host` listening behind a fresh jump server, both known, and a pool to reach it through the jump. */
async function behindJump(host: Server, name: string): Promise<{ jump: ReturnType<typeof jumpServer>; host: Server; jumpPort: number; target: ConnectionTarget; pool: JumpPool }> {
  const jump = jumpServer();
  const jumpPort = await listen(jump.server);
  const hostPort = await listen(host);
  const publicKey = hostKey.public.trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(knownHosts, `[127.0.0.1]:${jumpPort} ${publicKey}\n[127.0.0.1]:${hostPort} ${publicKey}\n`);
  const jumpTarget: JumpTarget = { ...endpoint(jumpPort), label: `jump host root@127.0.0.1:${jumpPort}` };
  const target: ConnectionTarget = { ...endpoint(hostPort), name, become: false, jumps: [jumpTarget] };
  return { jump, host, jumpPort, target, pool: new JumpPool({ acceptNewHostKeys: false }) };
}

describe('a host behind a jump host whose connection goes', () => {
  it('fails with the jump connection named and why it went; the next host opens the jump again', async () => {
    const { jump, host, jumpPort, target, pool } = await behindJump(slowHost(), 'rs1');
    try {
      const session = await openSession(target, { acceptNewHostKeys: false }, pool);
      const running = session.exec('sleep 600');
      // The jump host ends the run's connection (a bastion restarted, a firewall's idle timer).
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const client of jump.clients) client.end();
      const error = await running.then(() => undefined, (failure: unknown) => failure);
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect((error as Error).message).toContain(`the connection closed with the one through jump host root@127.0.0.1:${jumpPort}: the connection closed`);

      // The pool does not hand out the dead connection: the next host behind it connects afresh.
      const again = await openSession({ ...target, name: 'rs2' }, { acceptNewHostKeys: false }, pool);
      expect(pool.connections).toBe(2);
      again.close();
      session.close();
    } finally {
      pool.close();
      jump.server.close();
      host.close();
    }
  }, 30_000);
});

describe('a host behind a jump host whose sshd goes mid-exec', () => {
  it('fails at once, not after the silence watch: the jump host ends the channel and this side ends it too', async () => {
    // The host's sshd is killed as the exec runs: its TCP connection to the jump host closes.
    const { jump, host, target, pool } = await behindJump(
      slowHost((client) => setTimeout(() => (client as unknown as { _sock: { destroy: () => void } })._sock.destroy(), 200)),
      'dir1',
    );
    try {
      const session = await openSession(target, { acceptNewHostKeys: false }, pool);
      const began = performance.now();
      const error = await session.exec('sleep 600').then(() => undefined, (failure: unknown) => failure);
      expect(error).toBeInstanceOf(ConnectionLostError);
      expect((error as Error).message).toContain('the connection closed');
      expect(performance.now() - began).toBeLessThan(5_000);
      session.close();
    } finally {
      pool.close();
      jump.server.close();
      host.close();
    }
  }, 20_000);
});

describe('a host behind a jump host that cannot reach it', () => {
  async function attempt(jumpDelayMs: number, hostPort: (publicKey: string) => Promise<number>, connectTimeoutMs: number): Promise<{ error: unknown; ms: number; close: () => void }> {
    const jump = jumpServer(jumpDelayMs);
    const jumpPort = await listen(jump.server);
    const publicKey = hostKey.public.trim().split(' ').slice(0, 2).join(' ');
    const port = await hostPort(publicKey);
    writeFileSync(knownHosts, `[127.0.0.1]:${jumpPort} ${publicKey}\n[127.0.0.1]:${port} ${publicKey}\n`);
    const jumpTarget: JumpTarget = { ...endpoint(jumpPort), label: `jump host root@127.0.0.1:${jumpPort}` };
    const target: ConnectionTarget = { ...endpoint(port), connectTimeoutMs, name: 'dir1', become: false, jumps: [jumpTarget] };
    const pool = new JumpPool({ acceptNewHostKeys: false });
    // The jump connection is up first: its own connect is not the host's to count.
    await pool.get([jumpTarget]);
    const began = performance.now();
    const error = await openSession(target, { acceptNewHostKeys: false }, pool).then((session) => (session.close(), undefined), (failure: unknown) => failure);
    return { error, ms: performance.now() - began, close: () => (pool.close(), jump.server.close()) };
  }

  it('fails within its connect timeout when the jump host never confirms the channel', async () => {
    const { error, ms, close } = await attempt(Infinity, async () => 9, 1_000);
    close();
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as Error).message).toContain('dir1: through jump host root@127.0.0.1:');
    expect((error as Error).message).toContain('no answer from 127.0.0.1:9 through the jump host within 1 s (the connect timeout)');
    expect(ms).toBeLessThan(2_500);
  }, 15_000);

  it('counts the time the channel took against the same timeout for the handshake', async () => {
    // A host whose TCP port answers and whose sshd never sends its banner (a hung sshd).
    const silent = createServer((socket) => socket.on('error', () => undefined));
    const { error, ms, close } = await attempt(1_500, async () => (await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve)), (silent.address() as AddressInfo).port), 2_500);
    close();
    silent.close();
    expect(error).toBeInstanceOf(Error);
    // 1.5 s for the channel and the 2.5 s again for the handshake would be 4 s.
    expect(ms).toBeGreaterThan(2_300);
    expect(ms).toBeLessThan(3_500);
  }, 15_000);
});
