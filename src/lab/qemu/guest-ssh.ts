import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked } from './run.js';
import { requireTool } from './tools.js';

// Fresh keys per guest: a host key so the machine can pin the guest in its own known_hosts, and a
// client key that only this guest accepts. Nothing is read from or written to ~/.ssh.

export const guestHostAlias = 'lvsprov-guest';

export interface GuestSshFiles {
  readonly dir: string;
  readonly hostKey: string;
  readonly clientKey: string;
  readonly authorizedKeys: string;
  readonly knownHosts: string;
  readonly sshdConfig: string;
  readonly controlPath: string;
}

function sshdConfig(files: Omit<GuestSshFiles, 'sshdConfig' | 'controlPath' | 'knownHosts'>): string {
  return [
    'Port 22',
    'ListenAddress 0.0.0.0',
    `HostKey ${files.hostKey}`,
    `AuthorizedKeysFile ${files.authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The key files sit in a work dir under the world-writable /tmp, which StrictModes rejects.
    'StrictModes no',
    'UseDNS no',
    // lvsprov reaches lab hosts inside the guest through this sshd (direct-tcpip channels).
    'AllowTcpForwarding yes',
    'PermitTunnel no',
    'X11Forwarding no',
    // One multiplexed connection carries many sessions; many hosts may log in at once.
    'MaxSessions 100',
    'MaxStartups 100:30:200',
    'PidFile none',
    'PrintMotd no',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

export async function createGuestSshFiles(workDir: string): Promise<GuestSshFiles> {
  const keygen = requireTool('ssh-keygen', 'openssh-client');
  requireTool('sshd', 'openssh-server');
  const dir = join(workDir, 'ssh');
  await mkdir(dir, { mode: 0o700 });
  const hostKey = join(dir, 'host_key');
  const clientKey = join(dir, 'client_key');
  for (const [file, comment] of [
    [hostKey, 'lvsprov guest host key'],
    [clientKey, 'lvsprov guest client key'],
  ] as const) {
    await runChecked([keygen, '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  }
  const authorizedKeys = join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, await readFile(`${clientKey}.pub`, 'utf8'), { mode: 0o600 });
  // Pinned under an alias rather than [127.0.0.1]:port, so the forwarded port may change freely.
  const [keyType, keyBody] = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/);
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, `${guestHostAlias} ${keyType} ${keyBody}\n`, { mode: 0o600 });
  const config = join(dir, 'sshd_config');
  await writeFile(config, sshdConfig({ dir, hostKey, clientKey, authorizedKeys }), { mode: 0o600 });
  return { dir, hostKey, clientKey, authorizedKeys, knownHosts, sshdConfig: config, controlPath: join(dir, 'control') };
}
