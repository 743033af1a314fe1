// Text of the SSH files a lab writes. Pure, so their content is checked without root.

/** Where each host's sshd finds its files, inside the host's own (overlay) filesystem. */
export const hostSshDir = '/etc/lvsprov-lab';
export const hostKeyName = 'ssh_host_ed25519_key';

/**
 * The machine's /etc/ssh is never read: hosts run with `-f` pointing here. Key-only root logins;
 * no PAM and no DNS so a login costs no lookups or PAM session work; MaxStartups high because a
 * benchmark opens a connection to every host at once from the one control address.
 */
export function sshdConfig(): string {
  return [
    '# Written by the lvsprov netns lab.',
    'Port 22',
    'AddressFamily inet',
    'PermitRootLogin prohibit-password',
    'AuthenticationMethods publickey',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'UseDNS no',
    `AuthorizedKeysFile ${hostSshDir}/authorized_keys`,
    'MaxStartups 1000',
    'MaxSessions 64',
    'LoginGraceTime 30',
    'LogLevel ERROR',
    'PrintMotd no',
    'PrintLastLog no',
    'X11Forwarding no',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

/** `ssh-ed25519 AAAA... comment` -> `ssh-ed25519 AAAA...`: the part known_hosts and ssh compare. */
export function publicKeyBody(publicKeyLine: string): string {
  const [type, blob] = publicKeyLine.trim().split(/\s+/);
  if (!type || !blob || !/^ssh-[a-z0-9-]+$/.test(type) || !/^[A-Za-z0-9+/]+=*$/.test(blob)) {
    throw new Error(`not an OpenSSH public key: ${publicKeyLine.slice(0, 80)}`);
  }
  return `${type} ${blob}`;
}

export interface KnownHost {
  readonly addresses: readonly string[];
  readonly publicKey: string;
}

export function knownHostsText(hosts: readonly KnownHost[]): string {
  return hosts.flatMap((host) => host.addresses.map((address) => `${address} ${host.publicKey}\n`)).join('');
}

/** Keys from `ssh-keyscan` output, as `type blob`; comment lines are skipped. */
export function parseKeyscan(output: string): string[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => publicKeyBody(line.trim().split(/\s+/).slice(1).join(' ')));
}
