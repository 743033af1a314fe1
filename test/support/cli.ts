import { spawn, type ChildProcess } from 'node:child_process';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';

// Runs the built CLI as a user would, optionally inside a lab's control namespace.

export const cliPath = join(import.meta.dirname, '../../bin/lvsprov.cjs');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface StartedCli {
  /** The lvsprov process itself (`ip netns exec` execs it in place), for signals. */
  readonly child: ChildProcess;
  /** Everything it printed so far. */
  output(): { stdout: string; stderr: string };
  readonly done: Promise<CliResult>;
}

// ssh, and lvsprov as ssh, take the home from the password database, not $HOME. A test that gives
// the CLI a home of its own (env.HOME) gets it as that home: in a mount namespace of its own, the
// directory is bound over the passwd entry's home (each step execs the next in place, so the
// child is still lvsprov itself).
const passwdHome = userInfo().homedir;
const ownHome = (home: string | undefined): string[] =>
  home !== undefined && resolve(home) !== passwdHome ? ['unshare', '--mount', 'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'sh', resolve(home), passwdHome] : [];

export function startCli(args: readonly string[], options: { namespace?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): StartedCli {
  const argv = [...ownHome(options.env?.HOME), ...(options.namespace ? ['ip', 'netns', 'exec', options.namespace] : []), process.execPath, cliPath, ...args];
  const child = spawn(argv[0] as string, argv.slice(1), {
    cwd: options.cwd ?? join(import.meta.dirname, '../..'),
    env: { ...process.env, SSH_AUTH_SOCK: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      // A warning of node's own (a listener leak, a deprecation) is never meant for the user: any
      // CLI run of any test that prints one fails.
      const warning = /^\(node:\d+\) .*$/m.exec(stderr);
      if (warning) reject(new Error(`lvsprov printed a warning of node's own: ${warning[0]}\n${stderr}`));
      else resolve({ code: code ?? -1, stdout, stderr });
    });
  });
  return { child, output: () => ({ stdout, stderr }), done };
}

export function runCli(args: readonly string[], options: { namespace?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

export interface JsonHost {
  host: string;
  status: string;
  changes: Array<{ resource: string; summary: string; task: string; phase?: string }>;
  applied: number;
  outcomes?: string[];
  interrupted?: string;
  lock?: { waitedSeconds: number; heldBy?: string };
  error?: { kind: string; message: string; output?: string };
  notes?: Array<{ text: string; reason?: { kind: string; service: string; server?: string } }>;
  drains?: Array<{ service: string[]; server: string; vips?: string[]; active: number; drained: boolean; seconds: number }>;
  heldBack?: Array<{ summary: string; phase: string; reason: string }>;
  stats: { connections: number; execs: number };
}

export function parseJson(result: CliResult): { hosts: JsonHost[]; exitCode: number } {
  try {
    return JSON.parse(result.stdout) as { hosts: JsonHost[]; exitCode: number };
  } catch {
    throw new Error(`lvsprov did not print JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}
