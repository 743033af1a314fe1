import { StringDecoder } from 'node:string_decoder';
import type { Client } from 'ssh2';
import { ConnectError, ConnectionLostError, ExecAbortedError } from '../errors.js';
import { keepaliveIntervalMs, openClient } from './ssh-client.js';
import type { ConnectionTarget, ConnectOptions, ExecOptions, ExecResult, HostSession, JumpTarget, SessionStats } from './types.js';

// A host session: one SSH connection per host for the whole run, scripts sent on stdin to `sh -s`
// so that no script text is ever part of a command line. Jump hosts are shared: every host behind
// the same jump chain gets its own direct-tcpip channel over one connection to its last jump.

export class JumpPool {
  private readonly clients = new Map<string, Promise<Client>>();
  connections = 0;

  constructor(private readonly options: ConnectOptions) {}

  /**
   * The connection to the last jump of `chain`, opening the ones before it as needed: the first
   * over TCP, each next one through a channel of the one before (ProxyJump a,b). A chain prefix is
   * opened once per run and shared by every host behind it.
   */
  get(chain: readonly JumpTarget[]): Promise<Client> {
    const jump = chain[chain.length - 1];
    if (!jump) return Promise.reject(new Error('empty jump chain'));
    const key = chain.map((hop) => `${hop.user}@${hop.address}:${hop.port}`).join(' > ');
    let client = this.clients.get(key);
    if (!client) {
      this.connections += 1;
      const before = chain.slice(0, -1);
      client = (before.length > 0 ? this.get(before).then((previous) => forward(previous, jump.address, jump.port)) : Promise.resolve(undefined)).then((sock) =>
        openClient({ ...jump, ...(sock ? { sock } : {}) }, this.options),
      );
      this.clients.set(key, client);
    }
    return client;
  }

  close(): void {
    for (const client of this.clients.values()) client.then((c) => c.end(), () => undefined);
    this.clients.clear();
  }
}

function forward(jump: Client, address: string, port: number): Promise<NonNullable<Parameters<typeof openClient>[0]['sock']>> {
  return new Promise((resolve, reject) => {
    jump.forwardOut('127.0.0.1', 0, address, port, (error, stream) => (error ? reject(error) : resolve(stream)));
  });
}

class SshSession implements HostSession {
  /** Why the connection is gone, once it is. */
  private lost: string | undefined;

  constructor(
    private readonly client: Client,
    private readonly become: boolean,
    readonly stats: SessionStats,
  ) {
    client.on('error', (error: Error & { level?: string }) => {
      this.lost ??= error.level === 'client-timeout' ? `no answer for ${(3 * keepaliveIntervalMs) / 1000} s` : error.message;
    });
    client.on('close', () => {
      this.lost ??= 'the connection closed';
    });
  }

  exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    const { signal, onStdout } = options;
    if (signal?.aborted) return Promise.reject(new ExecAbortedError('', ''));
    if (this.lost) return Promise.reject(new ConnectionLostError(this.lost, '', ''));
    this.stats.execs += 1;
    const command = this.become ? 'sudo -n sh -s' : 'sh -s';
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, stream) => {
        if (error) {
          reject(this.lost ? new ConnectionLostError(this.lost, '', '') : error);
          return;
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        const text = (chunks: Buffer[]): string => Buffer.concat(chunks).toString('utf8');
        let aborted = false;
        const abort = (): void => {
          aborted = true;
          // The script goes on until its next write into the closed channel: at most the change
          // it is in the middle of completes.
          stream.close();
        };
        signal?.addEventListener('abort', abort, { once: true });
        const decoder = new StringDecoder('utf8');
        stream.on('data', (chunk: Buffer) => {
          stdout.push(chunk);
          if (onStdout) onStdout(decoder.write(chunk));
        });
        stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        stream.on('close', (code: number | null | undefined, exitSignal?: string) => {
          signal?.removeEventListener('abort', abort);
          if (aborted) {
            reject(new ExecAbortedError(text(stdout), text(stderr)));
            return;
          }
          if (code === null || code === undefined) {
            if (!exitSignal) {
              // No exit status: the connection went. Its error, if any, comes in the same tick.
              setImmediate(() => reject(new ConnectionLostError(this.lost ?? 'the channel closed without an exit status', text(stdout), text(stderr))));
              return;
            }
          }
          resolve({ stdout: text(stdout), stderr: text(stderr), code: code ?? 128 });
        });
        stream.end(script);
      });
    });
  }

  close(): void {
    this.client.end();
  }
}

export async function openSession(target: ConnectionTarget, options: ConnectOptions, jumps: JumpPool): Promise<HostSession> {
  const stats: SessionStats = { connections: 0, execs: 0 };
  let sock;
  const last = target.jumps[target.jumps.length - 1];
  if (last) {
    try {
      const jump = await jumps.get(target.jumps);
      sock = await forward(jump, target.address, target.port);
    } catch (error) {
      throw error instanceof ConnectError ? error : new ConnectError(`${target.name}: through ${last.label}: ${(error as Error).message}`);
    }
  }
  stats.connections += 1;
  // The jump hosts were handled above; what remains is the endpoint itself.
  const { name, become, jumps: _jumps, ...endpoint } = target;
  const client = await openClient({ label: name, ...endpoint, ...(sock ? { sock } : {}) }, options);
  return new SshSession(client, become, stats);
}
