import { randomBytes } from 'node:crypto';
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
  readonly marker: string;
  readonly stdout: Buffer[];
  readonly stderr: Buffer[];
  /** The last bytes of each stream, enough to hold its end line. */
  stdoutTail: Buffer;
  stderrTail: Buffer;
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

  /** Run one script; `onStdout` is not offered here, as the end line would reach it too. */
  run(script: string, signal?: AbortSignal): Promise<ShellRun> {
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
        marker,
        stdout: [],
        stderr: [],
        stdoutTail: Buffer.alloc(0),
        stderrTail: Buffer.alloc(0),
        aborted: false,
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

  private output(kind: 'stdout' | 'stderr', chunk: Buffer): void {
    const pending = this.pending;
    if (!pending) return;
    pending[kind].push(chunk);
    if (kind === 'stdout') pending.stdoutTail = tail(pending.stdoutTail, chunk);
    else pending.stderrTail = tail(pending.stderrTail, chunk);
    const status = endStatus(pending);
    if (status === undefined) return;
    this.pending = undefined;
    const stdout = strip(Buffer.concat(pending.stdout), Buffer.from(`\n${pending.marker} ${status}\n`));
    const stderr = strip(Buffer.concat(pending.stderr), Buffer.from(`\n${pending.marker}\n`));
    pending.resolve({ result: { stdout: stdout.toString('utf8'), stdoutBytes: stdout, stderr: stderr.toString('utf8'), code: status }, reusable: true });
  }

  private closed(code: number | null | undefined, exitSignal: string | undefined): void {
    this.ended = true;
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    const stdout = Buffer.concat(pending.stdout);
    const stderr = Buffer.concat(pending.stderr).toString('utf8');
    if (pending.aborted) {
      pending.reject(new ExecAbortedError(stdout.toString('utf8'), stderr));
      return;
    }
    if ((code === null || code === undefined) && !exitSignal) {
      // No exit status: the connection went. Its error, if any, comes in the same tick.
      setImmediate(() => pending.reject(new ConnectionLostError(this.lost() ?? 'the channel closed without an exit status', stdout.toString('utf8'), stderr)));
      return;
    }
    // The shell ended inside the script (an exit, sudo refused, a syntax error): its status is the script's.
    pending.resolve({ result: { stdout: stdout.toString('utf8'), stdoutBytes: stdout, stderr, code: code ?? 128 }, reusable: false });
  }
}

function tail(previous: Buffer, chunk: Buffer): Buffer {
  const joined = previous.length === 0 ? chunk : Buffer.concat([previous, chunk]);
  return joined.length > TAIL_BYTES ? joined.subarray(joined.length - TAIL_BYTES) : joined;
}

/** The script's status once both streams have ended with its end line; undefined until then. */
function endStatus(pending: Pending): number | undefined {
  const stdoutEnd = new RegExp(`\\n${pending.marker} (\\d+)\\n$`).exec(pending.stdoutTail.toString('latin1'));
  if (!stdoutEnd || !pending.stderrTail.toString('latin1').endsWith(`\n${pending.marker}\n`)) return undefined;
  return Number(stdoutEnd[1]);
}

function strip(output: Buffer, end: Buffer): Buffer {
  return output.subarray(0, output.length - end.length);
}
