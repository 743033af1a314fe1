import { expect, it, type TestContext } from 'vitest';
import type { CliResult } from './cli.js';

// What every qemu e2e file needs around its cases: a test that is skipped, with the reason, when
// the file's lab cannot be built on this machine (labReadiness never lets that happen in CI), and
// the check that an lvsprov run succeeded, with its output when it did not.

/** `it` for a lab case: `reason()` is read when the case runs, after the file's beforeAll set it. */
export function labTest(reason: () => string): (name: string, body: () => Promise<void>, timeoutMs: number) => void {
  return (name, body, timeoutMs) => {
    it(name, async (context: TestContext) => {
      const why = reason();
      if (why) context.skip(why);
      await body();
    }, timeoutMs);
  };
}

/** The run exited 0; otherwise the assertion shows what it printed. */
export function ok(result: CliResult, what: string): CliResult {
  expect(result.code, `${what} exited ${result.code}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}
