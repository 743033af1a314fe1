import { main } from '../../src/cli/main.js';
import type { CliIo } from '../../src/cli/io.js';

// The CLI entry called in-process with captured output, as the unit tests drive it.

export interface MainResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runMain(args: readonly string[], io: Partial<CliIo> = {}): Promise<MainResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'lvsprov', ...args], { out: (line) => out.push(line), err: (line) => err.push(line), isTTY: false, ...io });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}
