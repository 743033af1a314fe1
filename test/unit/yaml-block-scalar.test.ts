import { describe, expect, it } from 'vitest';
import { quickRead } from '../../src/config/yaml-quick-read.js';
import { blockScalar } from '../support/block-scalar-lines.js';
import { pick, seeded } from '../support/seeded-random.js';
import { compareWithLibrary, type Outcome } from '../support/yaml-compare.js';

// Block scalars read by the quick reader: each value as YAML 1.2 defines it, the same as the
// library's, at the same positions; the forms it does not read are left to the library.

/** The first string in `value`, depth first. */
function firstString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return undefined;
  return Object.values(value).map(firstString).find((found) => found !== undefined);
}

/** [document, its block scalar's value]: literal and folded, the three chompings, indicators. */
const READ_QUICKLY: Array<[string, string]> = [
  ['a: |\n  text\n', 'text\n'],
  ['a: |\n  text', 'text\n'],
  ['a: |\n  one\n  two\n', 'one\ntwo\n'],
  ['a: |\n  text\n\n\n', 'text\n'],
  ['a: |-\n  text\n\n', 'text'],
  ['a: |+\n  text\n\n', 'text\n\n'],
  ['a: |+\n  text\n', 'text\n'],
  ['a: |+\n  text', 'text\n'],
  ['a: |+\n  text\n\n \nb: 1\n', 'text\n\n\n'],
  ['a: |\n\n  text\n', '\ntext\n'],
  ['a: |\n  one\n\n  two\n', 'one\n\ntwo\n'],
  ['a: |\n  one\n    two\n  three\n', 'one\n  two\nthree\n'],
  ['a: |\n  # text, not a comment\n', '# text, not a comment\n'],
  ['a: |\n  text\n # a comment, less indented\nb: 1\n', 'text\n'],
  ['a: |  # a comment on the header\n  text\n', 'text\n'],
  ['a: |2\n   text\n', ' text\n'],
  ['a: |-2\n   text\n', ' text'],
  ['a: |2-\n   text\n', ' text'],
  ['a: |1+\n  text\n\n', ' text\n\n'],
  ['- |1\n  text\n', ' text\n'],
  ['- a: |1\n    text\n', ' text\n'],
  ['- a: |1\n   text\n', 'text\n'],
  ['x:\n  a: |\n    one\n      two\n  b: 1\n', 'one\n  two\n'],
  ['a: >\n  one\n  two\n', 'one two\n'],
  ['a: >\n  one\n\n  two\n', 'one\ntwo\n'],
  ['a: >-\n  one\n\n\n  two\n', 'one\n\ntwo'],
  ['a: >\n  one\n   more\n  two\n', 'one\n more\ntwo\n'],
  ['a: >\n  one\n\n   more\n\n  two\n', 'one\n\n more\n\ntwo\n'],
  ['a: >\n\n  one\n', '\none\n'],
  ['a: >\n  one\n \n  two\n', 'one\ntwo\n'],
  ['a: >+\n  one\n \n', 'one\n\n'],
  ['a: >2\n   more\n  text\n', ' more\ntext\n'],
  ['a: >\n  a: b, - c, {d}, [e], "f", #g\n', 'a: b, - c, {d}, [e], "f", #g\n'],
  ['a: >\n  text  \n  more\n', 'text   more\n'],
];

/** Forms the quick reader leaves to the library: read there, or refused with a position. */
const LEFT_TO_THE_LIBRARY: Array<[string, Outcome]> = [
  ['a: |\nb: 1\n', 'library only'],
  ['a: |+\n\n\nb: 1\n', 'library only'],
  ['a: |\n  x\n      \n  y\n', 'library only'],
  ['a: >\n  x\n      \n  y\n', 'library only'],
  ['a: |\n    \n  x\n', 'refused'],
  ['a: |#c\n  x\n', 'refused'],
  ['a: | x\n', 'refused'],
  ['a: |0\n  x\n', 'refused'],
  ['a: |++\n  x\n', 'refused'],
  ['a: |22\n  x\n', 'refused'],
  ['a: >\n   x\n  y\n', 'refused'],
  ['a: |\n  x\n b\n', 'refused'],
  ['|\n  x\n', 'library only'],
  ['a: &anchor |\n  x\n', 'library only'],
  ['a: !!str |\n  x\n', 'library only'],
];

describe('block scalars in the quick YAML reader', () => {
  it.each(READ_QUICKLY)('reads %j itself, as the library does', (text, expected) => {
    const differences: string[] = [];
    expect(compareWithLibrary(text, differences)).toBe('quick');
    expect(differences).toEqual([]);
    expect(firstString(quickRead(text)!.value)).toBe(expected);
  });

  it.each(LEFT_TO_THE_LIBRARY)('leaves %j to the library (%s)', (text, outcome) => {
    const differences: string[] = [];
    expect(compareWithLibrary(text, differences)).toBe(outcome);
    expect(differences).toEqual([]);
  });

  it('agrees with the library on thousands of generated block scalars', () => {
    const random = seeded(8_2026);
    const counts: Record<Outcome, number> = { quick: 0, 'library only': 0, refused: 0 };
    const differences: string[] = [];
    for (let round = 0; round < 3000; round += 1) {
      // A block scalar as a mapping value at column 0 or 2, a list item, or a value in a list's mapping.
      const place = pick(random, ['a: ', 'x:\n  a: ', '- ', '- a: ', '- x: 1\n  a: ']);
      const parentIndent = place.startsWith('x:') || place.includes('\n  ') || place === '- a: ' ? 2 : 0;
      const [header, ...lines] = blockScalar(random, parentIndent, pick(random, ['', '', ' # note', '#glued']));
      const after = pick(random, ['', '\n', 'b: 1\n', '# end\n', '  # end\n', ' x\n', '- y\n', '  b: 1\n']);
      counts[compareWithLibrary(`${place}${header}\n${lines.join('\n')}\n${after}`, differences)] += 1;
    }
    expect(differences.slice(0, 5)).toEqual([]);
    expect(counts.quick, JSON.stringify(counts)).toBeGreaterThan(1000);
    expect(counts['library only'], JSON.stringify(counts)).toBeGreaterThan(100);
    expect(counts.refused, JSON.stringify(counts)).toBeGreaterThan(100);
  });
});
