import { spawn } from 'node:child_process';

// Every external program is started from an argv array: nothing here goes through a shell.

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Run a program to completion and collect its output; never rejects on a non-zero exit. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('run: empty argv');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    const finish = (code: number | null, signal: NodeJS.Signals | null): void =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    let grace: NodeJS.Timeout | undefined;
    child.on('close', (code, signal) => {
      clearTimeout(grace);
      finish(code, signal);
    });
    // A daemon the program leaves behind (an ssh ControlPersist master) could hold the pipes open
    // long after the program itself is gone; do not wait for it beyond a short grace.
    child.on('exit', (code, signal) => {
      grace = setTimeout(() => finish(code, signal), 2000);
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Run and throw with the program's stderr when it does not exit 0. */
export async function runChecked(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(argv, options);
  if (result.code !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited ${result.code}`;
    throw new Error(`${argv.join(' ')} ${how}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result;
}
