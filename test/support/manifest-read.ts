import type { CompiledTask } from '../../src/config/compile.js';
import { MANIFEST_FILE, renderManifest } from '../../src/ownership/manifest.js';
import { declaredRecords } from '../../src/ownership/records.js';

// What the ownership manifest's probe prints on a host: `M-` without a manifest, else the
// manifest an apply of `owned` wrote, then each recorded object's probe output (as `answer` gives
// it) between markers carrying the probe's token, numbered by manifest line.

export const isManifestProbe = (probe: string): boolean => probe.includes(MANIFEST_FILE);

export function manifestRead(probe: string, owned: readonly CompiledTask[] | undefined, answer: (probe: string) => string): string {
  if (owned === undefined) return 'M-';
  const token = /<<<([0-9a-f]+) %s/.exec(probe)?.[1] ?? '';
  const records = declaredRecords(owned);
  const sections = records.map((record, index) => `<<<${token} ${index + 2}\n${answer(record.probe)}\n>>>${token} ${index + 2} 0\n`);
  return `M ${Buffer.from(renderManifest(records)).toString('base64')}\n${sections.join('')}`;
}
