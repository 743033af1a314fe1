import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Lab } from '../../src/lab/netns/index.js';
import { hostSshDir } from '../../src/lab/netns/ssh-files.js';

// A lab host's sshd has one host key, ed25519. A Debian host has the three openssh-server makes
// at install: RSA (3072 bits), ECDSA and ed25519, and announces all of them after every login; a
// client that asks the host to prove them (hostkeys-prove-00@openssh.com) makes it sign with
// each, the RSA signature costliest. This gives every lab host the two others, one pair shared by
// all hosts (making 3072-bit RSA keys a thousand times would take minutes), as lines of its
// sshd_config after the lab's own key. known_hosts keeps the ed25519 key, so clients still
// negotiate that one. sshd reads its config again when it restarts (SshdLogs.enable sends
// SIGHUP): call this before.

const extraKeys = [
  { file: 'ssh_host_rsa_key', keygen: ['-t', 'rsa', '-b', '3072'] },
  { file: 'ssh_host_ecdsa_key', keygen: ['-t', 'ecdsa'] },
] as const;

export async function addDebianHostKeys(lab: Lab): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lvsprov-host-keys-'));
  try {
    const keys = await Promise.all(
      extraKeys.map(async ({ file, keygen }) => {
        await promisify(execFile)('ssh-keygen', ['-q', ...keygen, '-N', '', '-C', 'lab', '-f', join(dir, file)]);
        return { file, private: await readFile(join(dir, file)), public: await readFile(join(dir, `${file}.pub`)) };
      }),
    );
    const lines = keys.map(({ file }) => `HostKey ${hostSshDir}/${file}`);
    for (const host of lab.hosts) {
      // The host's files as its sshd sees them, inside its own filesystem.
      const root = `/proc/${host.sshdPid}/root${hostSshDir}`;
      for (const key of keys) {
        await writeFile(join(root, key.file), key.private, { mode: 0o600 });
        await writeFile(join(root, `${key.file}.pub`), key.public);
      }
      const config = await readFile(join(root, 'sshd_config'), 'utf8');
      const missing = lines.filter((line) => !config.split('\n').includes(line));
      if (missing.length > 0) await writeFile(join(root, 'sshd_config'), `${config}${missing.join('\n')}\n`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
