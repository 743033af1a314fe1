import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, ClientChannel } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newNonce } from '../../src/engine/batch-script.js';
import { drainScript } from '../../src/engine/drain-script.js';
import { ExecAbortedError } from '../../src/errors.js';
import { lockOwner } from '../../src/lock/lock-owner.js';
import { parseLockReport } from '../../src/lock/lock-report.js';
import { acquireLockScript } from '../../src/lock/lock-script.js';
import { ShellChannel } from '../../src/transport/shell-channel.js';
import { makeKey, publicKeyText } from '../support/host-certificates.js';
import { openInetdClient } from '../support/sshd-inetd.js';

// An interrupt during the drain, against the real sshd: the run closes the drain's channel
// (shell-channel.ts), and sshd closes it back only once the shell on the director, which holds
// the host lock, let go of it. The poll must end as soon as it finds nobody reading: the run's
// recap comes at once and the operator's next run finds the lock free. `sshd -i` (inetd mode, the connection on its stdin and stdout) serves
// one connection on this machine; ipvsadm is a shell function that always shows one active
// connection on the leaving server, so only the interrupt can end the poll before its 60 s.

const SSHD = '/usr/sbin/sshd';
const NAME = 'director.cluster.example';

describe('a drain interrupted over real SSH', () => {
  let dir: string;
  let clientKey: string;
  let hostKey: string;

  beforeAll(() => {
    if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: run scripts/setup.sh (openssh-server)`);
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-drain-interrupt-'));
    clientKey = makeKey(dir, 'client', 'ed25519');
    hostKey = makeKey(dir, 'host', 'ed25519');
    copyFileSync(`${clientKey}.pub`, join(dir, 'authorized_keys'));
    writeFileSync(join(dir, 'known_hosts'), `${NAME} ${publicKeyText(`${hostKey}.pub`)}\n`);
    writeFileSync(
      join(dir, 'sshd_config'),
      [`HostKey ${hostKey}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password', 'UsePAM no', 'PidFile none', 'StrictModes no', 'LogLevel ERROR', ''].join('\n'),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the first interrupt closes the channel: the poll ends and the host lock is free within seconds, not at the drain timeout', async () => {
    const sshd = spawn(SSHD, ['-i', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let client: Client | undefined;
    try {
      client = await openInetdClient(sshd, NAME, { privateKeys: [clientKey], knownHostsFiles: [join(dir, 'known_hosts')] });
      const opened = client;
      const stream = await new Promise<ClientChannel>((resolve, reject) => opened.exec('sh -s', (error, channel) => (error ? reject(error) : resolve(channel))));
      const shell = new ShellChannel(stream, () => undefined);
      const lockDir = join(dir, 'lock');
      const nonce = newNonce();
      const read = await shell.run(acquireLockScript(nonce, lockOwner(), { wait: 'wait', timeoutSeconds: 5, dir: lockDir }));
      expect(parseLockReport(nonce, read.result.stdout).state).toBe('acquired');
      const free = (): boolean => spawnSync('flock', ['-n', join(lockDir, 'run.lock'), 'true']).status === 0;
      expect(free()).toBe(false);

      const ipvsadm = `ipvsadm() { printf 'TCP  198.51.100.50:80 wrr\\n  -> 192.0.2.13:80                Route   0      1          0\\n'; }\n`;
      const interrupt = new AbortController();
      const draining = shell.run(`${ipvsadm}${drainScript([{ service: ['-t', '198.51.100.50:80'], server: '192.0.2.13:80', address: '192.0.2.13' }], 60)}`, interrupt.signal);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const interrupted = Date.now();
      interrupt.abort();
      // The exec ends once sshd closes the channel, which it does once the shell let go of it.
      await expect(draining).rejects.toBeInstanceOf(ExecAbortedError);
      const stopped = (Date.now() - interrupted) / 1000;
      // The run goes on (other hosts, the recap) with the connection still open: only the channel went.
      while (!free() && Date.now() - interrupted < 90_000) await new Promise((resolve) => setTimeout(resolve, 100));
      const freed = (Date.now() - interrupted) / 1000;
      console.log(`after the interrupt: the drain's exec ended in ${stopped.toFixed(1)} s, the host lock was free in ${freed.toFixed(1)} s`);
      expect(stopped).toBeLessThan(5);
      expect(freed).toBeLessThan(5);
    } finally {
      client?.end();
      sshd.kill();
    }
  }, 120_000);
});
