import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { ClientChannel } from 'ssh2';
import { ConnectionLostError, ExecAbortedError } from '../errors.js';
import type { ExecResult } from './types.js';

// One `sh -s` on one SSH channel that runs script after script. A host's run sends it a read and
// then a script per wave; as separate channels, each costs the host's sshd a session (a fork), a
// login shell and a `sh`. Here each script is sent on the same stdin as
//
//   {
//   SCRIPT
//   } </dev/null
//   printf '\n%s %s\n' END "$?"; printf '\n%s\n' END >&2
//
// The group runs in the shell itself: a subshell per script would cost the host a fork of a shell
// holding the whole parsed script (about 5 ms of CPU here, on every host of every run). So the
// scripts of a session share one shell's variables, as the probes of one read and the changes of
// one apply always have: every script sets what it reads before reading it
// (test/unit/probe-isolation.test.ts, apply-isolation.test.ts). An `exit` ends the shell, with the
// script's status, as it ended a shell of its own; the next script then opens a new one. What a
// script starts in the background (the read's lock holder) is a job of that shell for the rest of
// the session, so a script waits for its own jobs by pid, never with a bare `wait`. Its stdin
// is /dev/null, so nothing in a script can read the next one (the group is parsed whole before it
// runs). END, a fresh random word per script, closes its output on both streams.

export interface ShellRun {
  readonly result: ExecResult;
  /** The shell is still there and waiting for the next script. */
  readonly reusable: boolean;
}

interface Pending {
  /** The end lines this script's output finishes with: stdout's carries the status. */
  readonly stdoutEnd: RegExp;
  readonly stderrEnd: string;
  readonly stdout: Buffer[];
  readonly stderr: Buffer[];
  /** The last bytes of each stream, enough to hold its end line. */
  stdoutTail: Buffer;
  stderrTail: Buffer;
  /** Sees stdout as it arrives (ExecOptions.watch), decoded as UTF-8 across chunk boundaries. */
  readonly watch?: { readonly decoder: StringDecoder; readonly see: (text: string) => void };
  aborted: boolean;
  readonly resolve: (run: ShellRun) => void;
  readonly reject: (error: Error) => void;
}

const TAIL_BYTES = 96;

export class ShellChannel {
  private pending: Pending | undefined;
  private ended = false;

  constructor(
    private readonly stream: ClientChannel,
    /** Why the connection is gone, once it is. */
    private readonly lost: () => string | undefined,
  ) {
    stream.on('data', (chunk: Buffer) => this.output('stdout', chunk));
    stream.stderr.on('data', (chunk: Buffer) => this.output('stderr', chunk));
    stream.on('close', (code: number | null | undefined, signal?: string) => this.closed(code, signal));
  }

  get open(): boolean {
    return !this.ended;
  }

  /** Run one script; `watch` sees its stdout as it comes, this shell's end line included. */
  run(script: string, signal?: AbortSignal, watch?: (text: string) => void): Promise<ShellRun> {
    if (this.pending) return Promise.reject(new Error('a script is already running on this shell'));
    if (this.ended) return Promise.reject(new ConnectionLostError(this.lost() ?? 'the shell channel closed', '', ''));
    const marker = `lvsprov-end-${randomBytes(12).toString('hex')}`;
    return new Promise((resolve, reject) => {
      const abort = (): void => {
        pending.aborted = true;
        // The script goes on until its next write into the closed channel: at most the change
        // it is in the middle of completes.
        this.stream.close();
      };
      const settled = (): void => signal?.removeEventListener('abort', abort);
      const pending: Pending = {
        stdoutEnd: new RegExp(`\\n${marker} (\\d+)\\n$`),
        stderrEnd: `\n${marker}\n`,
        stdout: [],
        stderr: [],
        stdoutTail: Buffer.alloc(0),
        stderrTail: Buffer.alloc(0),
        aborted: false,
        ...(watch ? { watch: { decoder: new StringDecoder('utf8'), see: watch } } : {}),
        resolve: (run) => (settled(), resolve(run)),
        reject: (error) => (settled(), reject(error)),
      };
      this.pending = pending;
      signal?.addEventListener('abort', abort, { once: true });
      this.stream.write(`{\n${script}\n} </dev/null\nprintf '\\n%s %s\\n' ${marker} "$?"; printf '\\n%s\\n' ${marker} >&2\n`);
    });
  }

  close(): void {
    this.ended = true;
    this.stream.end();
  }

  /**
   * Ends the shell's input and resolves once its channel closed (the shell read the end and
   * exited), or after `waitMs` at most.
   */
  closeAndWait(waitMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      this.stream.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.close();
    });
  }

  private output(kind: 'stdout' | 'stderr', chunk: Buffer): void {
    const pending = this.pending;
    if (!pending) return;
    pending[kind].push(chunk);
    if (kind === 'stdout' && pending.watch) pending.watch.see(pending.watch.decoder.write(chunk));
    if (kind === 'stdout') pending.stdoutTail = tail(pending.stdoutTail, chunk);
    else pending.stderrTail = tail(pending.stderrTail, chunk);
    const stdoutEnd = pending.stdoutEnd.exec(pending.stdoutTail.toString('latin1'));
    if (!stdoutEnd || !pending.stderrTail.toString('latin1').endsWith(pending.stderrEnd)) return;
    this.pending = undefined;
    const stdout = strip(Buffer.concat(pending.stdout), stdoutEnd[0].length);
    const stderr = strip(Buffer.concat(pending.stderr), pending.stderrEnd.length);
    pending.resolve({ result: { stdout: stdout.toString('utf8'), stdoutBytes: stdout, stderr: stderr.toString('utf8'), code: Number(stdoutEnd[1]) }, reusable: true });
  }

  private closed(code: number | null | undefined, exitSignal: string | undefined): void {
    this.ended = true;
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    // The shell ended inside the script (an exit, sudo refused, a syntax error): its status is the script's.
    settleClosed({ code, exitSignal, aborted: pending.aborted, stdout: pending.stdout, stderr: pending.stderr, lost: this.lost }, (result) => pending.resolve({ result, reusable: false }), pending.reject);
  }
}

export interface ClosedChannel {
  readonly code: number | null | undefined;
  readonly exitSignal: string | undefined;
  /** The caller closed it to stop the script. */
  readonly aborted: boolean;
  readonly stdout: readonly Buffer[];
  readonly stderr: readonly Buffer[];
  readonly lost: () => string | undefined;
}

/**
 * What a channel's close means for the script on it: stopped (ExecAbortedError), the connection
 * gone (no exit status: ConnectionLostError), or the end of its shell, whose status is the script's.
 */
export function settleClosed(closed: ClosedChannel, resolve: (result: ExecResult) => void, reject: (error: Error) => void): void {
  const stdout = Buffer.concat(closed.stdout);
  const stderr = Buffer.concat(closed.stderr).toString('utf8');
  if (closed.aborted) {
    reject(new ExecAbortedError(stdout.toString('utf8'), stderr));
    return;
  }
  if ((closed.code === null || closed.code === undefined) && !closed.exitSignal) {
    // No exit status: the connection went. Its error, if any, comes in the same tick.
    setImmediate(() => reject(new ConnectionLostError(closed.lost() ?? 'the channel closed without an exit status', stdout.toString('utf8'), stderr)));
    return;
  }
  resolve({ stdout: stdout.toString('utf8'), stdoutBytes: stdout, stderr, code: closed.code ?? 128 });
}

function tail(previous: Buffer, chunk: Buffer): Buffer {
  const joined = previous.length === 0 ? chunk : Buffer.concat([previous, chunk]);
  return joined.length > TAIL_BYTES ? joined.subarray(joined.length - TAIL_BYTES) : joined;
}

function strip(output: Buffer, endLength: number): Buffer {
  return output.subarray(0, output.length - endLength);
}
