import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecAbortedError } from '../../src/errors.js';
import type { ExecOptions, ExecResult, HostSession, SessionStats } from '../../src/transport/types.js';

// A HostSession that runs each script through the local /bin/sh, as sshd would run it, with a hook
// before each exec and one on each result: tests hold an exec back, stop it, or turn its result
// into what a lost connection looks like. Only for tasks confined to a temporary directory; what
// lvsprov keeps on a host (/var/lib/lvsprov: the ownership manifest, sysctl originals) goes to a
// temporary directory of each session's own, never to this machine's.

export interface LocalSessionHooks {
  /** Called before exec number `index` (0 = the read) starts; the exec waits for it. */
  before?(index: number, signal: AbortSignal | undefined): Promise<void>;
  /** May replace exec number `index`'s result, or throw instead. */
  after?(index: number, result: ExecResult): ExecResult;
}

export class LocalSession implements HostSession {
  readonly stats: SessionStats = { connections: 1, channels: 1, execs: 0 };
  /** The signal each exec was given, by exec index. */
  readonly signals: Array<AbortSignal | undefined> = [];
  closed = false;

  private readonly stateDir = mkdtempSync(join(tmpdir(), 'lvsprov-state-'));

  constructor(private readonly hooks: LocalSessionHooks = {}) {}

  async exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    const index = this.stats.execs++;
    this.signals[index] = options.signal;
    const aborted = new Promise<never>((_, reject) => {
      const stop = (): void => reject(new ExecAbortedError('', ''));
      if (options.signal?.aborted) stop();
      options.signal?.addEventListener('abort', stop, { once: true });
    });
    aborted.catch(() => undefined);
    await Promise.race([this.hooks.before?.(index, options.signal) ?? Promise.resolve(), aborted]);
    const result = await Promise.race([runSh(script.replaceAll('/var/lib/lvsprov', this.stateDir)), aborted]);
    return this.hooks.after ? this.hooks.after(index, result) : result;
  }

  close(): void {
    this.closed = true;
    rmSync(this.stateDir, { recursive: true, force: true });
  }
}

function runSh(script: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? 255 }));
    child.stdin.end(script);
  });
}
