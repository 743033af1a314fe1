import { PrefetchMismatchError } from '../resources/file-prefetch.js';
import type { ExecResult } from '../transport/types.js';
import { newNonce, parseReadSections, readScript, type SectionResult } from './batch-script.js';

/**
 * The sections of `read` (readScript(nonce, probes)'s output); when a file changed between the
 * prefetch's stat and its read, the probes are read again, each its own files, after `again`'s
 * prelude (a run's lock, proven still held by `check`).
 */
export async function sectionsOf(
  exec: (script: string) => Promise<ExecResult>,
  nonce: string,
  read: ExecResult,
  probes: readonly string[],
  lock?: { readonly prelude: (nonce: string) => string; readonly check: (nonce: string, stdout: string) => void },
): Promise<Map<number, SectionResult>> {
  try {
    return parseReadSections(nonce, read.stdoutBytes ?? read.stdout, probes.length);
  } catch (error) {
    if (!(error instanceof PrefetchMismatchError)) throw error;
    const again = newNonce();
    const reread = await exec(readScript(again, probes, lock?.prelude(again), { prefetch: false }));
    lock?.check(again, reread.stdout);
    return parseReadSections(again, reread.stdoutBytes ?? reread.stdout, probes.length);
  }
}
