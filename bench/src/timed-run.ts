import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';

// One contender run: wall time seen from outside, from spawn to exit, so process start-up and
// module loading count as the user pays them. GNU time reports the peak RSS from wait4(): the
// kernel's number for the largest single process of the run, not a sample that could miss it;
// and the CPU time of the run's processes (the command and every child it waited for: all the
// floor's ssh clients), which a busy machine does not inflate as it does wall time.

/** The environment every timed run gets: the same for every contender, whatever the bench's own. */
export const runEnv: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: process.env.HOME ?? '/root',
  LANG: 'C.UTF-8',
};

export interface TimedResult {
  readonly seconds: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Largest resident set of any one process of the run (lvsprov: the node process). */
  readonly maxRssKiB?: number;
  /** User and system CPU seconds of the run's processes on the control node. */
  readonly cpuSeconds?: number;
}

/** What GNU time measured, to pass on in a RunOutcome. */
export function usage(result: TimedResult): { maxRssKiB?: number; cpuSeconds?: number } {
  return { ...(result.maxRssKiB !== undefined ? { maxRssKiB: result.maxRssKiB } : {}), ...(result.cpuSeconds !== undefined ? { cpuSeconds: result.cpuSeconds } : {}) };
}

export interface TimedOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Written to the command's stdin: a long host list must not travel in argv (E2BIG at 1000 hosts). */
  readonly input?: string;
  /** Where GNU time writes its report; removed after reading. */
  readonly rssFile: string;
  /** Wraps the timed argv, e.g. to run it inside the lab's control namespace. */
  readonly wrap: (argv: readonly string[]) => string[];
}

const gnuTime = '/usr/bin/time';

function hasGnuTime(): boolean {
  try {
    accessSync(gnuTime, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const timeAvailable = hasGnuTime();

export async function timedRun(argv: readonly string[], options: TimedOptions): Promise<TimedResult> {
  const measured = timeAvailable ? [gnuTime, '-f', '%M %U %S', '-o', options.rssFile, ...argv] : [...argv];
  const [file, ...args] = options.wrap(measured);
  if (file === undefined) throw new Error('timedRun: empty argv');
  const started = performance.now();
  const outcome = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(file, args, { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    // A command that exits without reading its input must not fail the run with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }));
  });
  const seconds = (performance.now() - started) / 1000;
  let maxRssKiB: number | undefined;
  let cpuSeconds: number | undefined;
  if (timeAvailable) {
    // A run that failed also writes "Command exited with non-zero status N" before the number.
    const report = await readFile(options.rssFile, 'utf8').catch(() => '');
    const last = report.trim().split('\n').pop() ?? '';
    const measured = /^(\d+) (\d+\.\d+) (\d+\.\d+)$/.exec(last);
    if (measured) {
      maxRssKiB = Number(measured[1]);
      cpuSeconds = Number(measured[2]) + Number(measured[3]);
    }
    await rm(options.rssFile, { force: true });
  }
  return { seconds, ...outcome, ...(maxRssKiB !== undefined ? { maxRssKiB } : {}), ...(cpuSeconds !== undefined ? { cpuSeconds } : {}) };
}
