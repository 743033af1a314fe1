import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pick, seeded } from '../support/seeded-random.js';
import { blockScalar } from '../support/block-scalar-lines.js';
import { compareWithLibrary as compare, type Outcome } from '../support/yaml-compare.js';

// The quick reader must never read a file differently from the YAML library: same value (types,
// key order, prototypes), same position for every node and key, nothing accepted that the library
// refuses. It is checked against the library on every YAML file of the repository and on thousands
// of generated documents, many of them broken on purpose.

const repo = join(import.meta.dirname, '../..');

describe('the quick YAML reader agrees with the library', () => {
  it('on every YAML file of the repository, and reads most of them itself', () => {
    const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { cwd: repo, encoding: 'utf8' }).trim().split('\n');
    const differences: string[] = [];
    const outcomes = files.map((file) => compare(readFileSync(join(repo, file), 'utf8'), differences));
    expect(differences.slice(0, 5)).toEqual([]);
    const quick = outcomes.filter((outcome) => outcome === 'quick').length;
    const readable = outcomes.filter((outcome) => outcome !== 'refused').length;
    expect(quick / readable, `${quick} of ${readable} files read quickly`).toBeGreaterThan(0.8);
  });

  it('reads every shipped inventory, playbook and role file itself', () => {
    const shipped = execFileSync('git', ['ls-files', 'inventories/*.yaml', 'playbooks/*.yaml', 'roles/*.yaml'], { cwd: repo, encoding: 'utf8' }).trim().split('\n');
    expect(shipped.filter((file) => file.endsWith('/role.yaml')).length).toBeGreaterThanOrEqual(6);
    for (const file of shipped) {
      const differences: string[] = [];
      expect(compare(readFileSync(join(repo, file), 'utf8'), differences), file).toBe('quick');
      expect(differences).toEqual([]);
    }
  });

  it('reads an inventory shaped like the 5 MB benchmark itself', () => {
    const lines = ['hosts:'];
    for (let n = 1; n <= 300; n += 1) lines.push(`  host${n}: { address: 198.18.${n >> 8}.${n & 255}, vars: { note: host${n} } }`);
    const differences: string[] = [];
    expect(compare(`${lines.join('\n')}\n`, differences)).toBe('quick');
    expect(differences).toEqual([]);
  });

  it('keeps a trailing no-break space or other Unicode space in a plain scalar, as the library does', () => {
    const differences: string[] = [];
    for (const blank of ['\u00a0', '\u2003', '\u3000', '\u202f', '\u00a0 ']) {
      expect(compare(`hosts:\n  a:\n    address: 192.0.2.1${blank}\n  b: { address: 192.0.2.2${blank}, vars: {} }\n`, differences)).toBe('quick');
    }
    expect(differences).toEqual([]);
  });

  it('leaves a block key longer than the 1024 characters YAML allows an implicit key to the library', () => {
    const differences: string[] = [];
    for (const length of [1024, 1025, 5000]) {
      expect(compare(`hosts:\n  ${'a'.repeat(length)}: { address: 192.0.2.1 }\n  "${'b'.repeat(length - 2)}": 1\n`, differences)).toBe(length > 1024 ? 'refused' : 'quick');
      expect(compare(`- ${'c'.repeat(length)}: 2\n`, differences)).toBe(length > 1024 ? 'refused' : 'quick');
    }
    expect(differences).toEqual([]);
  });

  it('on thousands of generated documents, broken ones among them', () => {
    const random = seeded(20261130);
    const counts: Record<Outcome, number> = { quick: 0, 'library only': 0, refused: 0 };
    const differences: string[] = [];
    const blockScalarOutcomes: Record<Outcome, number> = { quick: 0, 'library only': 0, refused: 0 };
    for (let round = 0; round < 1500; round += 1) {
      let text = document(random);
      // About one in three is mutated: a character dropped, or one of YAML's indicators slipped in.
      if (random() < 0.35) {
        const at = Math.floor(random() * (text.length + 1));
        text = random() < 0.4 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + pick(random, [...' :-#{}[],\'"\n?&*!|>']) + text.slice(at);
      }
      const outcome = compare(text, differences);
      counts[outcome] += 1;
      if (BLOCK_SCALAR_HEADER.test(text)) blockScalarOutcomes[outcome] += 1;
    }
    expect(differences.slice(0, 5)).toEqual([]);
    // Each way must have been taken many times, or the comparison proves little.
    expect(counts.quick, JSON.stringify(counts)).toBeGreaterThan(250);
    expect(counts['library only'], JSON.stringify(counts)).toBeGreaterThan(250);
    expect(counts.refused, JSON.stringify(counts)).toBeGreaterThan(250);
    // Documents with block scalars among them (yaml-block-scalar.test.ts tries them alone).
    expect(blockScalarOutcomes.quick, JSON.stringify(blockScalarOutcomes)).toBeGreaterThan(50);
  });
});

// Scalars and keys chosen for the places where YAML readers disagree: types of the core schema,
// indicators inside and at the start of plain scalars, quotes, comments, non-ASCII.
const SCALARS = [
  'a', 'host1', '198.18.0.1', '0x1F', '0o17', '017', '1e3', '-1', '+1', '.5', '1.', '1.0', '.inf', '-.Inf', '.nan', '~', 'null', 'Null',
  'NULL', 'true', 'True', 'TRUE', 'yes', 'off', '1_000', 'a:b', 'a#b', "it's", 'a b', 'a  b', 'x,y', '-x', '--', '...', '---', '12:30',
  '2001-01-01', 'a:', ':a', '?a', '@a', '%a', '!a', '&a', '*a', '|', '>', '-', 'a #c', 'a[0]', '{x}', '[x]', 'é', '日本', '"q"', "'s'",
  "'it''s'", '"a\\"b"', '"tab\\t"', "''", '""', '"a b"', "'a b'", '"#"', 'a"b', "a'b", '0', '-0', '+0', '00', '0.0', '1e', 'e1', '0b1',
  'x: y', '"a: b"', "'#x'", '/etc/x', 'lo:0', 'eth0.10', '{{ vip }}', '"{{ vip }}"', 'a\\b', '$(x)', '`x`', 'a;b',
];
const KEYS = [
  'a', 'b', 'host1', 'address', 'vars', '80', '"80"', '1.0', '1', 'true', 'null', '~', '"x y"', "'q'", '__proto__', '"__proto__"',
  'constructor', 'a.b', 'a/b', 'a-b', '-a', '_x', 'A=B', 'x(y)', '""', 'a b', 'a:b', '0x10', '16', 'ip_forward', 'é', 'toString',
];

// Most values and keys are ordinary ones, so that most documents are valid and in the quick subset.
const COMMON_SCALARS = ['a', 'host1', '198.18.0.1', '80', '-1', '1.5', 'true', '~', 'eth0', '/etc/x', '"q w"', "'s'", 'a b', 'lo:0'];
const COMMON_KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'name', 'address', 'vars', 'port', 'x1', 'x2', 'x3', 'web', 'api', 'rs1', 'rs2', 'lan'];
const scalar = (random: () => number): string => pick(random, random() < 0.6 ? COMMON_SCALARS : SCALARS);
const key = (random: () => number): string => pick(random, random() < 0.7 ? COMMON_KEYS : KEYS);

function flowNode(random: () => number, depth: number): string {
  const roll = random();
  if (depth > 2 || roll < 0.5) return scalar(random);
  const count = Math.floor(random() * 4);
  const gap = pick(random, ['', ' ', '  ']);
  if (roll < 0.75) return `[${gap}${Array.from({ length: count }, () => flowNode(random, depth + 1)).join(`,${pick(random, [' ', '', '  '])}`)}${gap}]`;
  return `{${gap}${Array.from({ length: count }, () => `${key(random)}:${pick(random, [' ', '  ', ''])}${random() < 0.1 ? '' : flowNode(random, depth + 1)}`).join(', ')}${gap}}`;
}

function comment(random: () => number): string {
  return random() < 0.15 ? pick(random, [' # note', '  #x', '#glued', ' #']) : '';
}

/** Lines of a block node at `indent`; `inline` is what the first line starts with (`key:` or `-`). */
function blockLines(random: () => number, indent: number, depth: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  const isList = random() < 0.35;
  const count = 1 + Math.floor(random() * 4);
  for (let entry = 0; entry < count; entry += 1) {
    if (random() < 0.1) lines.push(random() < 0.5 ? '' : `${' '.repeat(Math.floor(random() * 6))}# a comment line`);
    const head = isList ? `${pad}-${pick(random, [' ', '  '])}` : `${pad}${key(random)}:`;
    const roll = random();
    if (depth < 4 && roll < 0.3) {
      const deeper = indent + pick(random, isList ? [2, 3] : [0, 1, 2, 4]);
      const child = blockLines(random, deeper, depth + 1);
      if (isList && random() < 0.5 && !child[0]!.trimStart().startsWith('-')) {
        lines.push(head + child[0]!.trimStart(), ...child.slice(1).map((line) => ' '.repeat(head.length) + line.slice(deeper)));
      } else {
        lines.push(`${head.trimEnd()}${comment(random)}`, ...child);
      }
    } else if (roll < 0.35 && !isList) {
      lines.push(`${head}${comment(random)}`);
    } else if (roll < 0.5) {
      const [header, ...content] = blockScalar(random, indent, comment(random));
      lines.push(`${head}${isList ? '' : ' '}${header}`, ...content);
    } else {
      lines.push(`${head}${isList ? '' : pick(random, [' ', '  '])}${flowNode(random, 0)}${pick(random, ['', ' ', '  '])}${comment(random)}`);
    }
    if (random() < 0.05) lines.push(`${pad}  ${scalar(random)}`);
  }
  return lines;
}

const BLOCK_SCALAR_HEADER = /[:-] [|>][-+1-9]*( +#.*)?$/m;

function document(random: () => number): string {
  const start = pick(random, ['', '', '', '---\n', '--- # doc\n', '# header\n']);
  const body = random() < 0.1 ? flowNode(random, 0) : blockLines(random, pick(random, [0, 0, 0, 1, 2]), 0).join('\n');
  return `${start}${body}${pick(random, ['\n', '', '\n\n', '\n# end\n'])}`;
}
