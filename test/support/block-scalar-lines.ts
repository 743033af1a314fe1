import { pick } from './seeded-random.js';

// Generated block scalars (`|`, `>`) for comparing the quick YAML reader with the library.

// Text, more-indented and `#` lines, empty lines and lines of spaces (which may also be the last ones).
const LINES = ['text', 'two words', 'a: b', '# not a comment', '- item', '"q"', '{x}', 'x  ', ' more', '  deeper', '', '', ' ', '   '];

/**
 * A block scalar of a node in a collection whose entries start at column `parentIndent`: its header
 * (with `comment` after it), then its lines, indented by the indicator or by 1-3 columns.
 */
export function blockScalar(random: () => number, parentIndent: number, comment = ''): string[] {
  const indicator = random() < 0.3 ? String(1 + Math.floor(random() * 3)) : '';
  const chomping = pick(random, ['', '', '-', '+']);
  const header = `${pick(random, ['|', '>'])}${random() < 0.5 ? indicator + chomping : chomping + indicator}${comment}`;
  const indent = parentIndent + (indicator === '' ? 1 + Math.floor(random() * 3) : Number(indicator));
  const lines = Array.from({ length: Math.floor(random() * 6) }, () => {
    const line = pick(random, LINES);
    return line.trim() === '' ? line : ' '.repeat(indent) + line;
  });
  return [header, ...lines];
}
