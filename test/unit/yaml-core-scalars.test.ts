import { LineCounter, Schema, type Scalar } from 'yaml';
import { describe, expect, it } from 'vitest';
import { resolveByTags, resolvePlain } from '../../src/config/yaml-core-scalars.js';
import { linePosition } from '../../src/config/yaml-line-position.js';

// The quick reader's core schema and line positions are written out so that it need not load the
// YAML library; these hold them to the library's own, scalar by scalar.

interface LibraryTag {
  readonly test?: RegExp;
  readonly default?: boolean;
  readonly collection?: string;
  resolve(source: string, onError: (message: string) => void, options: object): unknown;
}
const libraryTags = (new Schema({ schema: 'core' }).tags as unknown as LibraryTag[]).filter((tag) => tag.default === true && tag.test !== undefined && !tag.collection);

function byLibrary(source: string): unknown {
  const tag = libraryTags.find((candidate) => candidate.test?.test(source));
  if (!tag) return source;
  const resolved = tag.resolve(source, () => undefined, {});
  return resolved !== null && typeof resolved === 'object' ? (resolved as Scalar).value : resolved;
}

const scalars = [
  '', '~', 'null', 'Null', 'NULL', 'nULL', 'true', 'True', 'TRUE', 'tRUE', 'false', 'False', 'FALSE', 'yes', 'no', 'on', 'off',
  '0', '-0', '+0', '007', '42', '-42', '+42', '99999999999999999999', '0o17', '0o8', '0O17', '0x1F', '0xff', '0XFF', '0x', '0o',
  '1.5', '-1.5', '+.5', '.5', '5.', '1.0', '1.50', '1e3', '1E3', '-1.5e-3', '.5e+2', '1e', 'e3', '.inf', '-.Inf', '+.INF', '.nan',
  '.NaN', '.NAN', '-.nan', 'inf', 'nan', '1_000', '1,000', '198.18.0.1', '1.2.3', '10.0.0.0/8', '-', '+', '.', '..', '0.', 'nat', 'note',
];

describe("the quick reader's core scalars", () => {
  it.each(scalars)('%j reads as the YAML library reads it', (source) => {
    expect(resolveByTags(source)).toStrictEqual(byLibrary(source));
    expect(resolvePlain(source)).toStrictEqual(byLibrary(source));
  });

  it('the library has the tags written out, no more (an upgrade that adds one fails here)', () => {
    expect(libraryTags.map((tag) => tag.test?.source)).toEqual([
      '^(?:~|[Nn]ull|NULL)?$',
      '^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$',
      '^0o[0-7]+$',
      '^[-+]?[0-9]+$',
      '^0x[0-9a-fA-F]+$',
      '^(?:[-+]?\\.(?:inf|Inf|INF)|\\.nan|\\.NaN|\\.NAN)$',
      '^[-+]?(?:\\.[0-9]+|[0-9]+(?:\\.[0-9]*)?)[eE][-+]?[0-9]+$',
      '^[-+]?(?:\\.[0-9]+|[0-9]+\\.[0-9]*)$',
    ]);
  });
});

describe('line positions', () => {
  const text = 'a: 1\n\nbc: 2\n  d: 3\n';
  const counter = new LineCounter();
  const starts = [0];
  for (let i = 0; i < text.length; i += 1) if (text[i] === '\n') starts.push(i + 1);
  counter.lineStarts = [...starts];
  it.each([...Array(text.length + 2).keys()].map((offset) => [offset]))('offset %i is where the library puts it', (offset) => {
    expect(linePosition(starts, offset)).toEqual(counter.linePos(offset));
  });
  it('before any line start, as the library says', () => {
    expect(linePosition([], 3)).toEqual(new LineCounter().linePos(3));
    expect(linePosition([5], 2)).toEqual(Object.assign(new LineCounter(), { lineStarts: [5] }).linePos(2));
  });
});
