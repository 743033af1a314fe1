import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { ConnectionTarget } from '../transport/types.js';
import type { LoadedInventory } from './inventory.js';
import { expandPath } from './local-path.js';
import { own } from './own.js';

// How to reach each host: the inventory's `ssh` defaults overlaid by the host's own `ssh` block.
// Relative paths are relative to the inventory file, `~` is the user's home, as in ssh_config.

const expand = expandPath;

const defaultKeys = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => join(homedir(), '.ssh', name));

export function connectionTarget(inventory: LoadedInventory, host: string, env: NodeJS.ProcessEnv = process.env): ConnectionTarget {
  const entry = own(inventory.data.hosts, host);
  if (!entry) throw new Error(`unknown host ${host}`);
  const ssh = { ...inventory.data.ssh, ...(entry.ssh ?? {}) };
  const base = inventory.dir;

  let passphrase: string | undefined;
  if (ssh.passphrase_env) {
    passphrase = env[ssh.passphrase_env];
    if (passphrase === undefined) {
      throw new ConfigError([
        inventory.source.problem(entry.ssh?.passphrase_env ? ['hosts', host, 'ssh', 'passphrase_env'] : ['ssh', 'passphrase_env'], `environment variable ${ssh.passphrase_env} is not set`),
      ]);
    }
  }
  const agent = ssh.agent === false ? undefined : env.SSH_AUTH_SOCK;
  const privateKey = ssh.private_key ? expand(ssh.private_key, base) : agent ? undefined : defaultKeys.find((key) => existsSync(key));
  const knownHostsFile = expand(ssh.known_hosts ?? '~/.ssh/known_hosts', base);
  const jump = ssh.jump;

  return {
    name: host,
    address: entry.address,
    port: ssh.port ?? 22,
    user: ssh.user ?? env.USER ?? 'root',
    ...(privateKey ? { privateKey } : {}),
    ...(passphrase !== undefined ? { passphrase } : {}),
    ...(agent ? { agent } : {}),
    knownHostsFile,
    connectTimeoutMs: (ssh.connect_timeout ?? 10) * 1000,
    become: ssh.become ?? false,
    ...(jump
      ? {
          jump: {
            address: jump.address,
            port: jump.port ?? 22,
            user: jump.user ?? ssh.user ?? env.USER ?? 'root',
            ...(jump.private_key || privateKey ? { privateKey: jump.private_key ? expand(jump.private_key, base) : (privateKey as string) } : {}),
            knownHostsFile: jump.known_hosts ? expand(jump.known_hosts, base) : knownHostsFile,
          },
        }
      : {}),
  };
}
