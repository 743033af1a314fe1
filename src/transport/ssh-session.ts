import { StringDecoder } from 'node:string_decoder';
import type { Client, ClientChannel } from 'ssh2';
import { ConnectError, ConnectionLostError, ExecAbortedError } from '../errors.js';
import { silenceText } from './server-alive.js';
import { settleClosed, ShellChannel } from './shell-channel.js';
import { openClient } from './ssh-client.js';
import type { ConnectionTarget, ConnectOptions, ExecOptions, ExecResult, ExecTrace, HostSession, JumpTarget, ServerAlive, SessionStats } from './types.js';

// A host session: one SSH connection per host for the whole run, scripts sent on stdin to `sh -s`
// so that no script text is ever part of a command line, one after another to the same shell
// (shell-channel.ts). Jump hosts are shared: every host behind the same jump chain gets its own
// direct-tcpip channel over one connection to its last jump.

export class JumpPool {
  private readonly clients = new Map<string, Promise<Client>>();
  /** Why each jump connection went, once it has: the hosts behind it report it as their own. */
  private readonly lostReasons = new Map<string, string>();
  connections = 0;

  constructor(private readonly options: ConnectOptions) {}

  /**
   * The connection to the last jump of `chain`, opening the ones before it as needed: the first
   * over TCP, each next one through a channel of the one before (ProxyJump a,b). A chain prefix is
   * opened once per run and shared by every host behind it; one that is lost is opened afresh by
   * the next host that needs it.
   */
  get(chain: readonly JumpTarget[]): Promise<Client> {
    const jump = chain[chain.length - 1];
    if (!jump) return Promise.reject(new Error('empty jump chain'));
    const key = chainKey(chain);
    let client = this.clients.get(key);
    if (!client) {
      this.connections += 1;
      const before = chain.slice(0, -1);
      const opening = (before.length > 0 ? this.get(before).then((previous) => forwardWithin(previous, jump)) : Promise.resolve(undefined)).then((opened) =>
        openClient(opened ? { ...jump, sock: opened.sock, connectTimeoutMs: opened.timeLeftMs } : jump, this.options),
      );
      client = opening.then((opened) => {
        this.lostReasons.delete(key);
        const lose = (reason: string): void => {
          if (!this.lostReasons.has(key)) this.lostReasons.set(key, `${jump.label}: ${reason}`);
          if (this.clients.get(key) === client) this.clients.delete(key);
        };
        opened.on('error', (error: Error & { level?: string }) => lose(error.level === 'client-timeout' ? silenceText(jump.serverAlive) : error.message));
        opened.on('close', () => lose('the connection closed'));
        return opened;
      });
      this.clients.set(key, client);
    }
    return client;
  }

  /** Why the jump connection in front of a host went (`jump host ...: no answer for 40 s`), if it has. */
  lostReason(chain: readonly JumpTarget[]): string | undefined {
    return this.lostReasons.get(chainKey(chain));
  }

  close(): void {
    for (const client of this.clients.values()) client.then((c) => c.end(), () => undefined);
    this.clients.clear();
  }
}

function chainKey(chain: readonly JumpTarget[]): string {
  return chain.map((hop) => `${hop.user}@${hop.address}:${hop.port}`).join(' > ');
}

type ForwardedSock = NonNullable<Parameters<typeof openClient>[0]['sock']>;

/**
 * A direct-tcpip channel through `jump` to the endpoint, within the endpoint's connect timeout.
 * The jump host's sshd confirms the channel only once its own TCP connect to the endpoint is
 * answered, and it sets no timeout on that connect: to a host whose link is down, with its ARP
 * entry still cached, the jump host's kernel retransmits the SYN until the neighbour entry fails
 * (some 20 s), or for minutes where a router in between swallows it. ssh -J waits no longer than
 * ConnectTimeout either (its banner wait covers the `-W` channel). The time the channel took
 * counts against the same timeout for the SSH handshake that follows.
 */
export function forwardWithin(jump: Client, endpoint: { readonly address: string; readonly port: number; readonly connectTimeoutMs: number }): Promise<{ sock: ForwardedSock; timeLeftMs: number }> {
  const { address, port, connectTimeoutMs } = endpoint;
  const began = performance.now();
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new Error(`no answer from ${address}:${port} through the jump host within ${connectTimeoutMs / 1000} s (the connect timeout): the jump host could not reach it`));
    }, connectTimeoutMs);
    try {
      jump.forwardOut('127.0.0.1', 0, address, port, (error, stream) => {
        // A channel confirmed after the timeout is closed at once: nobody waits for it any more.
        if (settled) return void stream?.close();
        settled = true;
        clearTimeout(timer);
        if (error) return void reject(error);
        // An SSH connection has no half-close: once the host's end of the channel ended (its sshd
        // gone, its TCP connection closed) nothing more comes from it. OpenSSH's sshd on the jump
        // host keeps such a channel half-open until this side ends too, and ssh2 stops its
        // keepalives at the end, so only the silence watch (40 s) found the loss, and whatever
        // waited on the host (a new director waiting on an old one's release) waited with it.
        stream.once('end', () => stream.destroy());
        resolve({ sock: stream, timeLeftMs: Math.max(1, Math.round(connectTimeoutMs - (performance.now() - began))) });
      });
    } catch (error) {
      settled = true;
      clearTimeout(timer);
      reject(error as Error);
    }
  });
}

class SshSession implements HostSession {
  /** The error the connection ended with, if any. */
  private failure: string | undefined;
  private closed = false;
  /** close() was called: the connection is on its way out, whatever is still open on it. */
  private ending = false;
  /** The shell the last script left waiting on its channel, for the next one. */
  private idle: ShellChannel | undefined;

  constructor(
    private readonly client: Client,
    private readonly become: boolean,
    readonly stats: SessionStats,
    alive: ServerAlive,
    /** Why the jump connection this one runs through went, if it has (it takes this one with it). */
    private readonly jumpLost: () => string | undefined = () => undefined,
    /** Told each script and how it ended (-vv). */
    private readonly trace?: (trace: ExecTrace) => void,
  ) {
    client.on('error', (error: Error & { level?: string }) => {
      this.failure ??= error.level === 'client-timeout' ? silenceText(alive) : error.message;
    });
    client.on('close', () => {
      this.closed = true;
    });
  }

  /** Why the connection is gone, once it is; asked when reported, so a jump's reason has arrived. */
  private get lost(): string | undefined {
    if (this.failure !== undefined) return this.failure;
    if (!this.closed) return undefined;
    const jump = this.jumpLost();
    return jump ? `the connection closed with the one through ${jump}` : 'the connection closed';
  }

  exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    const { signal, onStdout, watch } = options;
    if (signal?.aborted) return Promise.reject(new ExecAbortedError('', ''));
    if (this.lost) return Promise.reject(new ConnectionLostError(this.lost, '', ''));
    if (this.ending) return Promise.reject(new ConnectionLostError('the connection was closed', '', ''));
    this.stats.execs += 1;
    // A caller that follows stdout as it comes gets a channel of its own, which ends with its script.
    const run = onStdout ? this.execAlone(script, signal, onStdout) : this.execInShell(script, signal, watch);
    const trace = this.trace;
    if (trace === undefined) return run;
    const exec = this.stats.execs;
    return run.then(
      (result) => (trace({ exec, script, result }), result),
      (error: Error) => {
        trace({ exec, script, error });
        throw error;
      },
    );
  }

  /** Through the shell the last script left waiting, or a new one that the next script may use. */
  private async execInShell(script: string, signal: AbortSignal | undefined, watch?: (text: string) => void): Promise<ExecResult> {
    const idle = this.idle?.open ? this.idle : undefined;
    this.idle = undefined;
    const shell = idle ?? new ShellChannel(await this.openChannel(), () => this.lost);
    const run = await shell.run(script, signal, watch);
    if (run.reusable && shell.open && !this.idle) this.idle = shell;
    else if (run.reusable) shell.close();
    return run.result;
  }

  private openChannel(): Promise<ClientChannel> {
    this.stats.channels += 1;
    return new Promise((resolve, reject) => {
      this.client.exec(this.shellCommand, (error, stream) => {
        if (error) reject(this.lost ? new ConnectionLostError(this.lost, '', '') : error);
        else resolve(stream);
      });
    });
  }

  private get shellCommand(): string {
    return this.become ? 'sudo -n sh -s' : 'sh -s';
  }

  private async execAlone(script: string, signal: AbortSignal | undefined, onStdout: (text: string) => void): Promise<ExecResult> {
    const stream = await this.openChannel();
    return new Promise((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
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
        onStdout(decoder.write(chunk));
      });
      stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      stream.on('close', (code: number | null | undefined, exitSignal?: string) => {
        signal?.removeEventListener('abort', abort);
        settleClosed({ code, exitSignal, aborted, stdout, stderr, lost: () => this.lost }, resolve, reject);
      });
      stream.end(script);
    });
  }

  /**
   * Ends the connection. A shell left waiting for a next script is ended first, and the
   * connection goes once that shell exited, as an OpenSSH client ends a session: a connection
   * closed under a live shell makes sshd leave the shell (and what it ran) to the host's init,
   * unreaped and its session's end unlogged. A shell still there after a second is left so.
   */
  close(): void {
    this.ending = true;
    const idle = this.idle?.open ? this.idle : undefined;
    this.idle = undefined;
    if (!idle) {
      this.client.end();
      return;
    }
    void idle.closeAndWait(SHELL_EXIT_WAIT_MS).then(() => this.endOnceServerCaughtUp());
  }

  /**
   * Ends the connection once sshd answered a global request sent after the session's close: sshd
   * has then handled that close, and closes the session (reaps what is left of it, logs `Close
   * session`) before the disconnect can reach it. A disconnect sent right behind the close could
   * arrive in the same read, and sshd would leave before it closed the session. The request is
   * OpenSSH's no-more-sessions (none will be opened on this connection); another server answers
   * it with a refusal, which is as good; no answer within a second ends the connection anyway.
   */
  private endOnceServerCaughtUp(): void {
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      this.client.end();
    };
    const timer = setTimeout(end, SERVER_REPLY_WAIT_MS);
    try {
      this.client.openssh_noMoreSessions(end);
    } catch {
      end();
    }
  }
}

const SHELL_EXIT_WAIT_MS = 1000;
const SERVER_REPLY_WAIT_MS = 1000;

export async function openSession(target: ConnectionTarget, options: ConnectOptions, jumps: JumpPool): Promise<HostSession> {
  const stats: SessionStats = { connections: 0, channels: 0, execs: 0 };
  let forwarded;
  const last = target.jumps[target.jumps.length - 1];
  if (last) {
    try {
      const jump = await jumps.get(target.jumps);
      forwarded = await forwardWithin(jump, target);
    } catch (error) {
      throw error instanceof ConnectError ? error : new ConnectError(`${target.name}: through ${last.label}: ${(error as Error).message}`);
    }
  }
  stats.connections += 1;
  // The jump hosts were handled above; what remains is the endpoint itself.
  const { name, become, jumps: _jumps, ...endpoint } = target;
  const client = await openClient({ label: name, ...endpoint, ...(forwarded ? { sock: forwarded.sock, connectTimeoutMs: forwarded.timeLeftMs } : {}) }, options);
  const trace = options.traceExec;
  return new SshSession(client, become, stats, target.serverAlive, last ? () => jumps.lostReason(target.jumps) : undefined, trace ? (exec) => trace(name, exec) : undefined);
}
