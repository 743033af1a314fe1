import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { quote } from '../../src/shell/quote.js';

// A look into a lab host through a fresh guest session costs the emulated guest an sshd session,
// a login shell, nsenter and the host's sh before the script runs (about 0.2 s of wall time, and
// in a whole e2e file half of the guest's CPU). A HostShell is one `sh` kept running inside the
// host, fed one script after another on its stdin: each look then costs only its own commands.

export interface ShellResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Pending {
  readonly mark: string;
  readonly resolve: (result: ShellResult) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Each script runs in a subshell of the kept shell (its `exit`, `cd`, `set` and traps stay its
 * own), with stdin from /dev/null (it must not eat the scripts after it). A line with a mark no
 * output can guess ends each stream. One script at a time: a pool gives concurrent looks a shell
 * each.
 */
export class HostShell {
  private readonly child: ChildProcessWithoutNullStreams;
  private stdout = '';
  private stderr = '';
  private pending: Pending | undefined;
  private ended: string | undefined;

  constructor(argv: readonly string[]) {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error('HostShell: empty argv');
    this.child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // A shell left open must not keep the test process alive; a pending script holds its own timer.
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    const out = new StringDecoder('utf8');
    const err = new StringDecoder('utf8');
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.stdout += out.write(chunk);
      this.settle();
    });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += err.write(chunk);
      this.settle();
    });
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', (error) => this.end(`could not start: ${error.message}`));
    this.child.on('close', (code, signal) => this.end(`its session ended (${signal ?? `exit ${code}`})`));
  }

  get alive(): boolean {
    return this.ended === undefined;
  }

  run(script: string, timeoutMs: number): Promise<ShellResult> {
    if (this.ended !== undefined) return Promise.reject(new Error(`the kept shell is gone: ${this.ended}`));
    if (this.pending) return Promise.reject(new Error('the kept shell is running another script'));
    const mark = `lvsprov-shell-${randomBytes(8).toString('hex')}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
        this.end(`no end of its script after ${timeoutMs} ms`);
      }, timeoutMs);
      this.pending = { mark, resolve, reject, timer };
      // The newline before each mark ends a last line the script left open; it is not the script's.
      this.child.stdin.write(`( eval ${quote(script)} ) </dev/null; printf '\\n%s %s\\n' ${mark} $?; printf '\\n%s\\n' ${mark} >&2\n`);
    });
  }

  /** Ends the shell after what it runs now. */
  close(): void {
    this.child.stdin.end();
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  private settle(): void {
    const pending = this.pending;
    if (!pending) return;
    const outEnd = new RegExp(`\\n${pending.mark} (\\d+)\\n`).exec(this.stdout);
    const errEnd = this.stderr.indexOf(`\n${pending.mark}\n`);
    if (!outEnd || errEnd < 0) return;
    const result = { code: Number(outEnd[1]), stdout: this.stdout.slice(0, outEnd.index), stderr: this.stderr.slice(0, errEnd) };
    this.stdout = this.stdout.slice(outEnd.index + outEnd[0].length);
    this.stderr = this.stderr.slice(errEnd + pending.mark.length + 2);
    clearTimeout(pending.timer);
    this.pending = undefined;
    pending.resolve(result);
  }

  private end(why: string): void {
    if (this.ended !== undefined) return;
    this.ended = why;
    const pending = this.pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending = undefined;
    pending.reject(new Error(`the kept shell ${why}; stderr: ${this.stderr.slice(-400)}; stdout: ${this.stdout.slice(-400)}`));
  }
}

/** Kept shells by host: a look takes an idle one, or starts one when every shell is busy. */
export class HostShellPool {
  private readonly idle = new Map<string, HostShell[]>();
  private readonly all = new Set<HostShell>();
  private startedCount = 0;

  constructor(private readonly argvFor: (host: string) => readonly string[]) {}

  async run(host: string, script: string, timeoutMs: number): Promise<ShellResult> {
    const shells = this.idle.get(host) ?? [];
    this.idle.set(host, shells);
    let shell = shells.pop();
    while (shell && !shell.alive) shell = shells.pop();
    if (!shell) {
      shell = new HostShell(this.argvFor(host));
      this.all.add(shell);
      this.startedCount++;
    }
    try {
      return await shell.run(script, timeoutMs);
    } finally {
      if (shell.alive) shells.push(shell);
      else this.all.delete(shell);
    }
  }

  /** How many shells this pool started (each cost one guest session). */
  get started(): number {
    return this.startedCount;
  }

  close(): void {
    for (const shell of this.all) shell.close();
    this.all.clear();
    this.idle.clear();
  }
}
