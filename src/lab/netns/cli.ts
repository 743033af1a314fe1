#!/usr/bin/env node
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { createLab } from './create.js';
import { destroyLab } from './destroy.js';
import { measureLab } from './measure.js';
import { loadState, statePath } from './state.js';

// Standalone lab control for CI cleanup, the benchmark and the qemu guest:
//   node dist/lab/netns/cli.js up SPEC.json WORKDIR [--ready-timeout S] | down WORKDIR | measure COUNT WORKDIR
// Every command prints one JSON document on stdout; a failure prints {"error"} on stderr, exit 1.

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!(number > 0)) throw new InvalidArgumentError(`expected a positive number, not ${value}`);
  return number;
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const program = new Command('netns-lab').description('network-namespace lab hosts with real sshd').showHelpAfterError();

program
  .command('up')
  .argument('<spec>', 'lab spec (JSON)')
  .argument('<workDir>', 'directory for keys, logs and state.json')
  .option('--concurrency <n>', 'hosts started at once', (value) => Number(value))
  // Under emulation (the qemu lab runs this inside its guest) sshd can take far longer than 30 s.
  .option('--ready-timeout <seconds>', "how long each host's sshd may take to answer (default 30)", positiveNumber)
  .action(async (specPath: string, workDir: string, options: { concurrency?: number; readyTimeout?: number }) => {
    const spec: unknown = JSON.parse(await readFile(specPath, 'utf8'));
    const lab = await createLab(spec, workDir, {
      outlivesCreator: true,
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      ...(options.readyTimeout ? { readyTimeoutMs: options.readyTimeout * 1000 } : {}),
    });
    print(lab);
  });

program
  .command('down')
  .argument('<workDir>', 'directory of a lab started with up')
  .action(async (workDir: string) => {
    const state = await loadState(workDir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!state) {
      // Cleanup jobs run unconditionally; a lab that is already gone is not an error.
      print({ destroyed: false, reason: `no ${statePath(workDir)}` });
      return;
    }
    const report = await destroyLab(state);
    print({ destroyed: report.leftovers.length === 0, ...report });
    if (report.leftovers.length > 0) process.exitCode = 1;
  });

program
  .command('measure')
  .argument('<count>', 'number of hosts', (value) => Number(value))
  .argument('<workDir>', 'scratch directory')
  .option('--name <name>', 'lab name (namespace prefix)', 'lmeasure')
  .action(async (count: number, workDir: string, options: { name: string }) => {
    print(await measureLab(options.name, count, workDir));
  });

try {
  await program.parseAsync();
} catch (error) {
  process.stderr.write(`${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
  process.exitCode = 1;
}
