import { describe, expect, it } from 'vitest';
import type { SectionResult } from '../../src/engine/batch-script.js';
import { DriftMemo, sectionsKey } from '../../src/status/drift-memo.js';

const sections = (...entries: Array<[number, string, number?]>): Map<number, SectionResult> => new Map(entries.map(([index, stdout, status]) => [index, { stdout, status: status ?? 0 }]));

describe('a watch keeps a host drift while its sections read the same', () => {
  it('plans again only when a planner section changes', () => {
    const memo = new DriftMemo<string>();
    let plans = 0;
    const plan = (label: string) => () => `${label} #${++plans}`;
    expect(memo.get(sectionsKey(sections([0, 'a'], [1, 'b']), 2), plan('first'))).toBe('first #1');
    expect(memo.get(sectionsKey(sections([0, 'a'], [1, 'b']), 2), plan('same'))).toBe('first #1');
    // A section past the planner's (the director's live table) does not count.
    expect(memo.get(sectionsKey(sections([0, 'a'], [1, 'b'], [2, 'connections 7']), 2), plan('live table'))).toBe('first #1');
    expect(memo.get(sectionsKey(sections([0, 'a'], [1, 'B']), 2), plan('text'))).toBe('text #2');
    expect(memo.get(sectionsKey(sections([0, 'a'], [1, 'B', 1]), 2), plan('status'))).toBe('status #3');
    expect(memo.get(sectionsKey(sections([0, 'a']), 2), plan('missing'))).toBe('missing #4');
    expect(memo.get(sectionsKey(sections([0, 'a'], [1, 'B', 1]), 2), plan('back'))).toBe('back #5');
  });

  it.each([
    ['text moved across a boundary', sections([0, 'ab'], [1, 'c']), sections([0, 'a'], [1, 'bc'])],
    ['a newline moved across a boundary', sections([0, 'a\n0 1 b']), sections([0, 'a'], [1, 'b'])],
    ['an empty section against a missing one', sections([0, '']), sections()],
    ['a status against text', sections([0, 'x', 1]), sections([0, 'x', 10])],
  ])('tells sections apart: %s', (_why, one, other) => {
    expect(sectionsKey(one, 2)).not.toBe(sectionsKey(other, 2));
  });
});
