import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { labEnv, run } from './process.js';
import { CERT_SUFFIX } from '../../transport/host-certificate.js';
import { parseKeyscan } from './ssh-files.js';

// Readiness is observed from the control namespace, over the bridges, the way lvsprov will connect:
// a host counts as up when its sshd sends the SSH banner on every one of its addresses. Node cannot
// enter a namespace itself, so one small poller runs inside the control namespace for the whole
// start-up, reading `ADDR DEADLINE` lines on stdin and answering `ready ADDR` or `timeout ADDR`.
// Deadlines are absolute and set by the caller, so the poller's own start-up counts against them.

const pollerScript = `
const net = require('node:net');
function probe(address, deadline) {
  if (Date.now() >= deadline) {
    process.stdout.write('timeout ' + address + '\\n');
    return;
  }
  const socket = net.connect({ host: address, port: 22 });
  let settled = false;
  let banner = '';
  const finish = (ok) => {
    if (settled) return;
    settled = true;
    if (ok) {
      // Answering with a banner of our own makes sshd log a quiet disconnect instead of an error.
      socket.end('SSH-2.0-lvsprov-lab-probe\\r\\n');
      process.stdout.write('ready ' + address + '\\n');
    } else {
      socket.destroy();
      setTimeout(() => probe(address, deadline), 50);
    }
  };
  socket.setTimeout(1000, () => finish(false));
  // Once connected, sshd is starting a session (under emulation its re-exec alone takes seconds):
  // wait for its banner up to the deadline; giving up early would start one more session per
  // retry, each slowing the others, and the banner would never come.
  socket.on('connect', () => socket.setTimeout(Math.max(1000, deadline - Date.now()), () => finish(false)));
  socket.on('error', () => finish(false));
  socket.on('close', () => finish(false));
  socket.on('data', (chunk) => {
    banner += chunk.toString('latin1');
    if (banner.length >= 4) finish(banner.startsWith('SSH-'));
  });
}
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const [address, deadline] = line.trim().split(' ');
  if (address) probe(address, Number(deadline));
});
`;

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
}

export class SshReadiness {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiters = new Map<string, Waiter[]>();
  private failure: Error | undefined;

  constructor(
    controlNamespace: string,
    private readonly timeoutMs: number,
  ) {
    this.child = spawn('ip', ['netns', 'exec', controlNamespace, process.execPath, '-e', pollerScript], { env: labEnv });
    let stderr = '';
    this.child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    this.child.stdin.on('error', () => undefined);
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const [verdict, address = ''] = line.split(' ');
      const waiters = this.waiters.get(address) ?? [];
      this.waiters.delete(address);
      for (const waiter of waiters) {
        if (verdict === 'ready') waiter.resolve();
        else waiter.reject(new Error(`sshd on ${address} did not answer within ${timeoutMs} ms`));
      }
    });
    this.child.on('close', (code) => this.fail(new Error(`readiness poller exited ${code}: ${stderr.trim()}`)));
    this.child.on('error', (error) => this.fail(error));
  }

  /** Resolves once `address:22` sends an SSH banner to the control namespace. */
  wait(address: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.set(address, [...(this.waiters.get(address) ?? []), { resolve, reject }]);
      this.child.stdin.write(`${address} ${Date.now() + this.timeoutMs}\n`);
    });
  }

  /** Let the poller finish; on a failed start, stop it at once instead of letting it poll on. */
  close(abort = false): void {
    if (abort) this.child.kill();
    else this.child.stdin.end();
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const waiters of this.waiters.values()) for (const waiter of waiters) waiter.reject(error);
    this.waiters.clear();
  }
}

/**
 * Poll with ssh-keyscan from the control namespace until `address` serves `publicKey` (`type
 * base64`); a key of a `*-cert-v01@openssh.com` type is asked for as a certificate.
 */
export async function waitForHostKey(controlNamespace: string, address: string, publicKey: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const keyType = publicKey.split(' ')[0] ?? 'ssh-ed25519';
  const certificate = keyType.endsWith(CERT_SUFFIX);
  let seen: string[] = [];
  while (Date.now() < deadline) {
    const result = await run([
      'ip', 'netns', 'exec', controlNamespace, 'ssh-keyscan', '-T', '2',
      ...(certificate ? ['-c', '-t', keyType.slice(0, -CERT_SUFFIX.length)] : ['-t', keyType]),
      address,
    ]);
    // With -c, ssh-keyscan prints each certificate as a -cert.pub line, without the host in front.
    seen = result.code !== 0 ? [] : certificate ? certificatesOf(result.stdout, keyType) : parseKeyscan(result.stdout);
    if (seen.includes(publicKey)) return;
    await sleep(50);
  }
  throw new Error(`${address} did not serve the new host key within ${timeoutMs} ms (saw ${seen.join(', ') || 'nothing'})`);
}

function certificatesOf(output: string, type: string): string[] {
  return output
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .flatMap((fields) => {
      const at = fields.indexOf(type);
      return at >= 0 && fields[at + 1] ? [`${type} ${fields[at + 1]}`] : [];
    });
}
