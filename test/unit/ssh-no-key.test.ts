import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClient, type ClientTarget } from '../../src/transport/ssh-client.js';
import { serverAliveDefaults } from '../../src/transport/server-alive.js';
import { ed25519KeyPair } from '../support/ed25519-key.js';

// Every login refused, and lvsprov never offered a key: an IdentityFile that does not exist, under
// IdentitiesOnly yes or with no agent. ssh says `no such identity: FILE`; lvsprov said only
// "All configured authentication methods failed", as if keys had been tried and refused. Real
// sockets on loopback, the real ssh2 client, and an ssh2 server that refuses every login.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-no-key-'));
const keyFile = join(dir, 'id_ed25519');
writeFileSync(keyFile, ed25519KeyPair().private, { mode: 0o600 });
const knownHosts = join(dir, 'known_hosts');
const hostKey = ed25519KeyPair();
let server: ssh2.Server;
let port = 0;

beforeAll(async () => {
  server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (context) => context.reject(['publickey']));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostKey.public.trim()}\n`);
});

afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const target = (more: Partial<ClientTarget>): ClientTarget => ({
  label: 'h1',
  address: '127.0.0.1',
  port,
  user: 'root',
  privateKeys: [],
  knownHostsFiles: [knownHosts],
  globalKnownHostsFiles: [],
  connectTimeoutMs: 10_000,
  serverAlive: serverAliveDefaults,
  ...more,
});

describe('a login that offered no key', () => {
  it('says so: no identity file it could open, and no agent', async () => {
    await expect(openClient(target({}), { acceptNewHostKeys: false })).rejects.toThrow(/All configured authentication methods failed; lvsprov had no key to offer: no identity file it could open, and no agent$/);
  });

  it('says so under IdentitiesOnly yes, whose agent signs only for the files\' keys', async () => {
    await expect(openClient(target({ agentKeys: [] }), { acceptNewHostKeys: false })).rejects.toThrow(/lvsprov had no key to offer: no identity file it could open \(IdentitiesOnly yes: the agent signs only for those files' keys\)$/);
  });

  it('says nothing of the kind when a key was offered and refused', async () => {
    const refused = openClient(target({ privateKeys: [keyFile] }), { acceptNewHostKeys: false });
    await expect(refused).rejects.toThrow(/All configured authentication methods failed$/);
  });
});
