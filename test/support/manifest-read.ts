import type { CompiledTask } from '../../src/config/compile.js';
import { MANIFEST_FILE, renderManifest } from '../../src/ownership/manifest.js';
import { declaredRecords } from '../../src/ownership/records.js';
import type { SectionResult } from '../../src/engine/batch-script.js';
import { followUpRead, type HostReadPlan } from '../../src/engine/host-plan.js';

// What the ownership manifest's probe prints on a host: `M-` without a manifest, else the
// manifest an apply of `owned` wrote. The follow-up read then prints each recorded object's
// probe output it asks for (as `answer` gives it) between markers carrying its token, numbered by
// manifest line.

export const isManifestProbe = (probe: string): boolean => probe.includes(MANIFEST_FILE);

export function manifestRead(owned: readonly CompiledTask[] | undefined): string {
  if (owned === undefined) return 'M-';
  return `M ${Buffer.from(renderManifest(declaredRecords(owned))).toString('base64')}`;
}

const FOLLOW_UP = /printf '<<<([0-9a-f]+) %s\\n' (\d+)\n\(\n([\s\S]*?)\n\)\nprintf '\\n>>>/g;

export const isFollowUp = (script: string): boolean => new RegExp(FOLLOW_UP.source).test(script);

/** What a follow-up read script prints, each recorded probe answered by `answer`. */
export function followUpOutput(script: string, answer: (probe: string) => string): string {
  return [...script.matchAll(FOLLOW_UP)].map(([, token, line, probe]) => `<<<${token} ${line}\n${answer(probe ?? '')}\n>>>${token} ${line} 0\n`).join('');
}

/** The recorded probes a follow-up read script runs, in order. */
export function followUpProbes(script: string): string[] {
  return [...script.matchAll(FOLLOW_UP)].map((match) => match[3] ?? '');
}

/**
 * A host's read as the engine gets it: each probe answered by `answer`, the manifest `owned`'s
 * (none when undefined), and the follow-up read's output joined to it when the plan asks for one.
 */
export function plannedSections(read: HostReadPlan, answer: (probe: string) => string, owned: readonly CompiledTask[] | undefined): Map<number, SectionResult> {
  const sections = new Map(read.probes.map((probe, index) => [index, { stdout: isManifestProbe(probe) ? manifestRead(owned) : answer(probe), status: 0 }]));
  const more = followUpRead(read, sections);
  const section = more ? sections.get(more.section) : undefined;
  if (more && section) sections.set(more.section, { ...section, stdout: `${section.stdout}\n${followUpOutput(more.script, answer)}` });
  return sections;
}
