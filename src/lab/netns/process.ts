import { run as runProgram, runChecked as runProgramChecked, type RunOptions, type RunResult } from '../qemu/run.js';

// Programs are started from argv arrays only: nothing in the lab goes through a local shell
// except the fixed host start-up script, which takes its values as positional parameters.
// Running them is the qemu lab's helper; what the netns lab adds is the environment.

export type { RunOptions, RunResult };

/** A PATH with the sbin directories: `ip` and `sshd` live there and a caller's PATH may lack them. */
export const labEnv: NodeJS.ProcessEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

/** Run to completion and collect output; never rejects on a non-zero exit. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runProgram(argv, { env: labEnv, ...options });
}

/** Run and throw with the program's own message when it does not exit 0. */
export function runChecked(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runProgramChecked(argv, { env: labEnv, ...options });
}

/**
 * Map with at most `limit` calls in flight. After a failure no new item is started, but the ones
 * in flight are awaited before the first error is thrown: cleanup must not race a half-started item.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  const errors: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && errors.length === 0) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
  return results;
}
