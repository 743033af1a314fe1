import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import { openClient } from '../../src/transport/ssh-client.js';

// lvsprov's client on `sshd -i` (inetd mode: the SSH connection is the process's stdin and
// stdout, no port, no network), as root, known by `name`, host keys checked against the given
// known_hosts files only.

type ClientTarget = Parameters<typeof openClient>[0];
type Login = Pick<ClientTarget, 'privateKeys' | 'knownHostsFiles'> & Partial<Pick<ClientTarget, 'certificateFiles' | 'agent' | 'agentKeys'>>;

export function openInetdClient(sshd: ChildProcessWithoutNullStreams, name: string, login: Login): Promise<Client> {
  return openClient(
    {
      label: name,
      address: name,
      port: 22,
      user: 'root',
      ...login,
      globalKnownHostsFiles: [],
      connectTimeoutMs: 15_000,
      serverAlive: { intervalMs: 0, countMax: 3 },
      sock: Duplex.from({ readable: sshd.stdout, writable: sshd.stdin }),
    },
    { acceptNewHostKeys: false },
  );
}
