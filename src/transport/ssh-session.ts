import type { Client } from 'ssh2';
import { ConnectError } from '../errors.js';
import { openClient } from './ssh-client.js';
import type { ConnectionTarget, ConnectOptions, ExecResult, HostSession, JumpTarget, SessionStats } from './types.js';

// A host session: one SSH connection per host for the whole run, scripts sent on stdin to `sh -s`
// so that no script text is ever part of a command line. Jump hosts are shared: every host behind
// the same jump host gets its own direct-tcpip channel over one jump connection.

export class JumpPool {
  private readonly clients = new Map<string, Promise<Client>>();
  connections = 0;

  constructor(private readonly options: ConnectOptions) {}

  get(jump: JumpTarget, connectTimeoutMs: number): Promise<Client> {
    const key = `${jump.user}@${jump.address}:${jump.port}`;
    let client = this.clients.get(key);
    if (!client) {
      this.connections += 1;
      client = openClient({ label: `jump host ${key}`, ...jump, connectTimeoutMs }, this.options);
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
  constructor(
    private readonly client: Client,
    private readonly become: boolean,
    readonly stats: SessionStats,
  ) {}

  exec(script: string): Promise<ExecResult> {
    this.stats.execs += 1;
    const command = this.become ? 'sudo -n sh -s' : 'sh -s';
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, stream) => {
        if (error) {
          reject(error);
          return;
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => stdout.push(chunk));
        stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        stream.on('close', (code: number | null, signal?: string) => {
          resolve({
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
            code: code ?? (signal ? 128 : 255),
          });
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
  if (target.jump) {
    try {
      const jump = await jumps.get(target.jump, target.connectTimeoutMs);
      sock = await forward(jump, target.address, target.port);
    } catch (error) {
      throw error instanceof ConnectError ? error : new ConnectError(`${target.name}: through jump host ${target.jump.address}: ${(error as Error).message}`);
    }
  }
  stats.connections += 1;
  // The jump host was handled above; what remains is the endpoint itself.
  const { name, become, jump: _jump, ...endpoint } = target;
  const client = await openClient({ label: name, ...endpoint, ...(sock ? { sock } : {}) }, options);
  return new SshSession(client, become, stats);
}
