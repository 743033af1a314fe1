import type { SectionResult } from './batch-script.js';
import type { ChangeOutcome } from './events.js';

// What became of each change of an apply script, from the sections whose end marker arrived. A
// script that ran to its end stops at the first failing change, so the rest were not made; a
// script cut off (lost connection, second interrupt) may have gone on after its last output
// reached us, so the rest are unknown.

export function changeOutcomes(count: number, sections: ReadonlyMap<number, SectionResult>, ended: boolean): ChangeOutcome[] {
  return Array.from({ length: count }, (_, index) => {
    const section = sections.get(index);
    if (section) return section.status === 0 ? 'made' : 'failed';
    return ended ? 'not-made' : 'unknown';
  });
}

export function countOutcomes(outcomes: readonly ChangeOutcome[]): Record<ChangeOutcome, number> {
  const counts = { made: 0, failed: 0, 'not-made': 0, unknown: 0 };
  for (const outcome of outcomes) counts[outcome] += 1;
  return counts;
}
