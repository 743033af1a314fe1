import type { SectionResult } from '../engine/batch-script.js';

// A watch re-reads every host each refresh, and most hosts read back exactly what they read last
// time. Their drift is the host plan of those sections (planHost, pure: the tasks do not change
// during a watch), and planning is most of what a refresh costs the control node beyond the SSH
// exec (the ownership manifest is rendered and hashed per host): a host whose sections are the
// same as last refresh keeps last refresh's drift.

/** The planner's sections (0 .. count-1) as one string: equal strings, equal sections. */
export function sectionsKey(sections: ReadonlyMap<number, SectionResult>, count: number): string {
  const parts: string[] = [];
  for (let index = 0; index < count; index++) {
    const section = sections.get(index);
    // The length keeps one section's text from running into the next's.
    parts.push(section === undefined ? '-' : `${section.status} ${section.stdout.length} ${section.stdout}`);
  }
  return parts.join('\n');
}

/** Last refresh's result for one host, kept while what it was computed from (`key`) stays the same. */
export class DriftMemo<T> {
  private last: { readonly key: string; readonly value: T } | undefined;

  get(key: string, compute: () => T): T {
    if (this.last?.key === key) return this.last.value;
    const value = compute();
    this.last = { key, value };
    return value;
  }
}
