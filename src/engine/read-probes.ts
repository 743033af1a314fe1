import { PrefetchMismatchError } from '../resources/file-prefetch.js';
import { scriptEnvironment } from '../shell/script-environment.js';
import type { ExecResult } from '../transport/types.js';
import { newNonce, parseReadSections, readScript, type SectionResult } from './batch-script.js';
import { followUpRead, type HostReadPlan } from './host-plan.js';

// The reads a host's plan takes besides the one batched read: the read again without the
// prefetch when a file changed under it, and the follow-up read of recorded objects the plan may
// remove. Each is a second exec that an unchanged host never makes.

type Exec = (script: string) => Promise<ExecResult>;

/**
 * What a later exec of a run holding the host lock needs: the prelude proving it still holds it,
 * and the check of that prelude's report (throws when the lock was lost).
 */
export interface HeldLock {
  readonly prelude: (nonce: string) => string;
  readonly check: (nonce: string, stdout: string) => void;
}

/**
 * The sections of `read` (the output of readScript(nonce, probes)); when a file changed between
 * the prefetch's stat and its read, the probes are run again, each reading its own files.
 */
export async function sectionsOf(exec: Exec, nonce: string, read: ExecResult, probes: readonly string[], lock?: HeldLock): Promise<Map<number, SectionResult>> {
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

/** `sections` with the follow-up read's output joined to the manifest's section, when the plan needs one. */
export async function withFollowUp(exec: Exec, plan: HostReadPlan, sections: Map<number, SectionResult>, lock?: HeldLock): Promise<Map<number, SectionResult>> {
  const followUp = followUpRead(plan, sections);
  const section = followUp ? sections.get(followUp.section) : undefined;
  if (!followUp || !section) return sections;
  const nonce = newNonce();
  const prelude = lock?.prelude(nonce);
  const result = await exec(`${scriptEnvironment}\n${prelude ? `${prelude}\n` : ''}${followUp.script}\n`);
  lock?.check(nonce, result.stdout);
  return new Map(sections).set(followUp.section, { ...section, stdout: `${section.stdout}\n${result.stdout}` });
}

/** One read of a host's plan for a caller that holds no lock (status), with whatever second read it needs. */
export async function readPlanned(exec: Exec, plan: HostReadPlan, probes: readonly string[]): Promise<Map<number, SectionResult>> {
  const nonce = newNonce();
  const read = await exec(readScript(nonce, probes));
  return withFollowUp(exec, plan, await sectionsOf(exec, nonce, read, probes));
}
