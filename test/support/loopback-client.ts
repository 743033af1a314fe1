import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientTarget } from '../../src/transport/ssh-client.js';
import { serverAliveDefaults } from '../../src/transport/server-alive.js';
import { ed25519KeyPair } from './ed25519-key.js';

/**
 * A client key and an empty known_hosts in a folder of their own, for tests whose "host" is a
 * server on loopback that never gets as far as checking either: `target` reaches it on `port`.
 */
export function loopbackClient(prefix: string): { readonly target: (port: number) => ClientTarget; readonly remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const keyFile = join(dir, 'id_ed25519');
  writeFileSync(keyFile, ed25519KeyPair().private, { mode: 0o600 });
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, '');
  return {
    target: (port) => ({
      label: 'h1',
      address: '127.0.0.1',
      port,
      user: 'root',
      privateKeys: [keyFile],
      knownHostsFiles: [knownHosts],
      globalKnownHostsFiles: [],
      connectTimeoutMs: 60_000,
      serverAlive: serverAliveDefaults,
    }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
