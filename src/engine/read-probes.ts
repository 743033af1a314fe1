import { PrefetchMismatchError } from '../resources/file-prefetch.js';
import type { ExecResult } from '../transport/types.js';
import { newNonce, parseReadSections, readScript, type SectionResult } from './batch-script.js';

/**
 * One read of `probes` for a caller that holds no lock (status): its sections, read a second time
 * without the prefetch only when a file changed under it (file-prefetch.ts).
 */
export async function readProbes(exec: (script: string) => Promise<ExecResult>, probes: readonly string[]): Promise<Map<number, SectionResult>> {
  const nonce = newNonce();
  const read = await exec(readScript(nonce, probes));
  try {
    return parseReadSections(nonce, read.stdoutBytes ?? read.stdout, probes.length);
  } catch (error) {
    if (!(error instanceof PrefetchMismatchError)) throw error;
    const again = newNonce();
    const reread = await exec(readScript(again, probes, undefined, { prefetch: false }));
    return parseReadSections(again, reread.stdoutBytes ?? reread.stdout, probes.length);
  }
}
