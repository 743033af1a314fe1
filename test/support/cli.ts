import { spawn } from 'node:child_process';
import { join } from 'node:path';

// Runs the built CLI as a user would, optionally inside a lab's control namespace.

export const cliPath = join(import.meta.dirname, '../../bin/lvsprov.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], options: { namespace?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  const argv = [...(options.namespace ? ['ip', 'netns', 'exec', options.namespace] : []), process.execPath, cliPath, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd: options.cwd ?? join(import.meta.dirname, '../..'),
      env: { ...process.env, SSH_AUTH_SOCK: '', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export interface JsonHost {
  host: string;
  status: string;
  changes: Array<{ resource: string; summary: string; task: string }>;
  applied: number;
  error?: { kind: string; message: string; output?: string };
  stats: { connections: number; execs: number };
}

export function parseJson(result: CliResult): { hosts: JsonHost[]; exitCode: number } {
  try {
    return JSON.parse(result.stdout) as { hosts: JsonHost[]; exitCode: number };
  } catch {
    throw new Error(`lvsprov did not print JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  }
}
