import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { problemsOf } from '../support/config-problems.js';
import { findUtf8Fault } from '../../src/config/utf8.js';
import { yamlLimits } from '../../src/config/yaml-limits.js';
import { Composer, LineCounter, Parser } from 'yaml';
import { YamlSource } from '../../src/config/yaml-source.js';
import { checkTree } from '../../src/config/yaml-tree.js';
import { decodeUtf8Text, decodeYamlText, readYamlText } from '../../src/config/yaml-text.js';
import { quickTextSpans } from '../../src/config/yaml-quick-read.js';

// Every YAML file goes through YamlSource: these are the hostile or broken inputs it must refuse
// with a position rather than crash, hang or accept silently.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-yaml-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const parse = (text: string): string[] => problemsOf(() => YamlSource.parse('f.yaml', text));
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe('size', () => {
  it('refuses a file over the limit without reading it', () => {
    const file = join(dir, 'huge.yaml');
    writeFileSync(file, '');
    truncateSync(file, yamlLimits.maxBytes + 1); // sparse: nothing is written to disk
    expect(problemsOf(() => YamlSource.load(file))).toEqual([`${file}:1:1: file is larger than 16.0 MB, the most lvsprov reads from one YAML file; split it or check that it is the right file`]);
  });

  it('reads a file at the limit', () => {
    const file = join(dir, 'at-limit.yaml');
    writeFileSync(file, `a: 1\n${'#'.repeat(yamlLimits.maxBytes - 6)}\n`);
    expect(readYamlText(file)).toHaveLength(yamlLimits.maxBytes);
  });
});

describe('encoding', () => {
  it.each([
    ['Latin-1 é', bytes(0x61, 0x3a, 0x20, 0xe9, 0x0a), 3, 'byte 0xE9 starts a character that byte 0x0A does not continue'],
    ['Latin-1 é at the end', bytes(0x61, 0x3a, 0x20, 0xe9), 3, 'byte 0xE9 starts a 3-byte character that the file cuts short'],
    ['a lone continuation byte', bytes(0x61, 0x80), 1, 'byte 0x80 continues a character that never started'],
    ['overlong /', bytes(0xc0, 0xaf), 0, 'byte 0xC0 starts an overlong encoding'],
    ['overlong 3-byte', bytes(0xe0, 0x80, 0xaf), 0, 'bytes 0xE0 0x80 are an overlong encoding'],
    ['a surrogate', bytes(0xed, 0xa0, 0x80), 0, 'encode a UTF-16 surrogate'],
    ['beyond U+10FFFF', bytes(0xf4, 0x90, 0x80, 0x80), 0, 'would encode beyond U+10FFFF'],
    ['byte 0xFF', bytes(0x20, 0xff), 1, 'byte 0xFF never occurs in UTF-8'],
    ['a cut sequence', bytes(0x61, 0xe2, 0x82), 1, 'the file cuts short'],
  ])('finds %s', (_name, input, offset, reason) => {
    expect(findUtf8Fault(input)).toEqual({ offset, reason: expect.stringContaining(reason) });
  });

  it('accepts well-formed UTF-8 of every length', () => {
    expect(findUtf8Fault(new TextEncoder().encode('a é € 𝄞 \u{10FFFF}'))).toBeNull();
  });

  it('reports the bad byte at its line and column, counted in characters', () => {
    const input = new Uint8Array([...new TextEncoder().encode('a: 1\nnote: "café '), 0xff, 0x22, 0x0a]);
    expect(problemsOf(() => decodeYamlText('f.yaml', input))).toEqual([
      'f.yaml:2:13: note: not valid UTF-8: byte 0xFF never occurs in UTF-8; save the file as UTF-8',
    ]);
  });

  // Found in the text before it is read as YAML: the path is read from the file decoded with U+FFFD for each bad byte.
  it('names the path of the value or key that holds the bad byte', () => {
    const at = (before: string, after: string): string[] => problemsOf(() => decodeYamlText('f.yaml', new Uint8Array([...new TextEncoder().encode(before), 0xe9, ...new TextEncoder().encode(after)])));
    expect(at('hosts:\n  rs1:\n    groups: [a, "caf', '"]\n')).toEqual([
      'f.yaml:3:21: hosts.rs1.groups.1: not valid UTF-8: byte 0xE9 starts a character that byte 0x22 does not continue; save the file as UTF-8',
    ]);
    expect(at('hosts:\n  caf', ': {}\n')[0]).toMatch(/^f\.yaml:2:6: hosts\.caf\ufffd: not valid UTF-8/);
    expect(at('- name: |\n    caf', '\n    more\n')[0]).toMatch(/^f\.yaml:2:8: 0\.name: not valid UTF-8/);
    // In a comment, no node holds it; nor does a file other than YAML (a template) have paths.
    expect(at('a: 1 # caf', '\n')[0]).toMatch(/^f\.yaml:1:11: not valid UTF-8/);
    expect(problemsOf(() => decodeUtf8Text('t.hbs', new Uint8Array([...new TextEncoder().encode('a: caf'), 0xe9, 0x0a])))[0]).toMatch(/^t\.hbs:1:7: not valid UTF-8/);
  });

  it('drops a leading byte order mark', () => {
    expect(decodeYamlText('f.yaml', bytes(0xef, 0xbb, 0xbf, 0x61, 0x3a, 0x20, 0x31))).toBe('a: 1');
  });

  it.each([
    ['NUL', 'a: "x\u0000"', '1:6: a', 'control character U+0000 (NUL)'],
    ['ESC', 'a: 1\nb: \u001b[31m', '2:4: b', 'control character U+001B (ESC)'],
    ['DEL', 'a: \u007f', '1:4: a', 'control character U+007F (DEL)'],
    ['a C1 control', 'a: \u0090', '1:4: a', 'control character U+0090'],
    ['NUL in a nested key', 'hosts:\n  - { web\u0000: 1 }\n', '2:10: hosts.0.web\\u0000', 'control character U+0000 (NUL)'],
    // A lone CR breaks the lines the path would be read from: none is given.
    ['a lone CR', 'a: 1\rb: 2\n', '1:5', 'a carriage return'],
  ])('refuses %s, with the path of the node that holds it', (_name, text, position, message) => {
    const [problem] = problemsOf(() => decodeYamlText('f.yaml', new TextEncoder().encode(text)));
    expect(problem).toMatch(new RegExp(`^f\\.yaml:${position.replace(/[.\\]/g, '\\$&')}: ${message.replace(/[()+]/g, '\\$&')}`));
  });

  it('leaves a no-break space after a colon inside quoted text alone: only a key needs the plain space', () => {
    for (const text of ['a: { b: "x, c:\u00a0y" }\n', "a: { b: 'x, c:\u00a0y' }\n", 'a: "time:\u00a0now"\n', 'a: [x, -\u00a0y]\n']) {
      expect(decodeYamlText('f.yaml', new TextEncoder().encode(text))).toBe(text);
    }
  });

  it('leaves a no-break space in the text of a block scalar or a multi-line string alone', () => {
    for (const text of [
      'a: |\n  note:\u00a0x\n  \u00a0indented by a no-break space\nb: 1\n',
      'a:\n  - >-\n    - \u00a0item\n    word:\u00a0x\n',
      'a: |2 # two\n   \u00a0x\n',
      'a: first line\n  word:\u00a0x\n  \u00a0y\n',
      'a: "first line\n  word:\u00a0x"\n',
      "a: 'first, line\n  x, word:\u00a0x'\n",
      'a: start, note:\u00a0x\n',
      'a: 1 # see, b:\u00a0c\n',
      // A closed quoted string is text whatever else is wrong in the file (here an unclosed list).
      'a: "first\n  w:\u00a0x"\nb: [\n',
      // The quick reader's part of YAML: comments, quoted strings and a block scalar's header.
      'a: x # c, d:\u00a0e\n',
      'a: { b: c, d: "e, f:\u00a0g" }\n',
      'a: |-  # h, i:\u00a0j\n  x\n',
      'a: x, b:\u00a0y\n',
    ]) {
      expect(decodeYamlText('f.yaml', new TextEncoder().encode(text))).toBe(text);
    }
  });

  it('looks a no-break space up in a mapping of 150,000 keys without a deep stack or a pairwise key check', () => {
    const text = `${Array.from({ length: 150_000 }, (_, index) => `k${index}: 1\n`).join('')}note: |\n  w:\u00a0x\n`;
    expect(decodeYamlText('f.yaml', new TextEncoder().encode(text))).toBe(text);
  }, 30_000);

  it('checks 150,000 no-break spaces in block scalars in one quick pass, not a parse by the library', () => {
    const host = (index: number): string => `  h${index}:\n    note: |\n      \u00a0one w:\u00a0x\n      \u00a0two w:\u00a0x\n      \u00a0three w:\u00a0x\n`;
    const text = `hosts:\n${Array.from({ length: 25_000 }, (_, index) => host(index)).join('')}`;
    // The quick reader takes the file, so its answer is the one the check uses.
    expect(quickTextSpans(text)).not.toBeNull();
    expect(decodeYamlText('f.yaml', new TextEncoder().encode(text))).toBe(text);
  }, 30_000);

  it.each([
    ['an unclosed list', 'a: first\n  \u00a0x\nb: [\n', '3:4: b: YAML syntax: this \\[ has no matching'],
    ['an unclosed list after the string', 'a: b\n  \u00a0c\nd: [1\n', '3:4: d: YAML syntax: this \\[ has no matching'],
    ['a bad tag', 'a: first\n  \u00a0x\nb: !!binary x\n', '3:4: b: tag !!binary is not allowed'],
  ])('names a syntax error (%s) elsewhere in a file whose multi-line string holds a no-break space', (_name, text, expected) => {
    expect(() => decodeYamlText('f.yaml', new TextEncoder().encode(text))).not.toThrow();
    expect(parse(text)[0]).toMatch(new RegExp(`^f\\.yaml:${expected}`));
  });

  it.each([
    ['after a key below a block scalar', 'a: |\n  text\nb:\u00a01\n', '3:3'],
    ['as indentation below a block scalar', 'a: |\n  text\nb:\n  \u00a0c: 1\n', '4:3'],
    ['after a key below a multi-line string', 'a: one\n  two\nb:\n  c:\u00a01\n', '4:5'],
    ['after a key that a broken line would continue', 'a:\n  b: 1\n    \u00a0c: 2\n', '3:5'],
    // Files the quick reader reads: the answer comes from its spans, not the library's tokens.
    ['after a list dash', '- \u00a0x\n', '1:3'],
    ['after a nested list dash', 'a:\n  - \u00a0x\n', '2:5'],
    ['after a key in a list item', '- a:\u00a0b\n', '1:5'],
    ['after a key in a flow list', 'a: [x, b:\u00a0y]\n', '1:10'],
  ])('still names a no-break space %s', (_name, text, position) => {
    const [problem] = problemsOf(() => decodeYamlText('f.yaml', new TextEncoder().encode(text)));
    expect(problem).toMatch(new RegExp(`^f\\.yaml:${position}: U\\+00A0 \\(no-break space\\)`));
  });

  it('accepts CRLF line endings, tabs inside values and NEL', () => {
    expect(decodeYamlText('f.yaml', new TextEncoder().encode('a: "x\ty\u0085"\r\nb: 2\r\n'))).toBe('a: "x\ty\u0085"\r\nb: 2\r\n');
  });
});

describe('structure', () => {
  it('locates a problem in each of 30,000 items of one flow list without reading the list again for each', () => {
    const source = YamlSource.parse('f.yaml', `ports: [${Array.from({ length: 30_000 }, (_, index) => 60_000 + index).join(', ')}]\n`);
    const problems = Array.from({ length: 30_000 }, (_, index) => source.problem(['ports', index], 'out of range'));
    expect(problems.at(-1)).toMatchObject({ line: 1, col: 9 + 7 * 29_999 });
  }, 10_000);

  it('bounds nesting before the recursive composer sees it', () => {
    // The path is that of the first list too deep: `a` and 63 indexes (the first at 0 of each).
    expect(parse(`a: ${'['.repeat(10_000)}${']'.repeat(10_000)}`)).toEqual([
      `f.yaml:1:${4 + yamlLimits.maxDepth - 1}: a${'.0'.repeat(yamlLimits.maxDepth - 1)}: nested more than 64 levels deep; lvsprov reads at most 64 levels of mappings and lists`,
    ]);
    const block = Array.from({ length: 70 }, (_, depth) => `${' '.repeat(depth)}k:`).join('\n');
    expect(parse(block)[0]).toMatch(new RegExp(`^f\\.yaml:65:65: k${'\\.k'.repeat(63)}: nested more than 64 levels`));
    const allowed = Array.from({ length: 64 }, (_, depth) => `${' '.repeat(depth)}k:`).join('\n');
    expect(() => YamlSource.parse('f.yaml', allowed)).not.toThrow();
  });

  it('points an unclosed bracket and an unterminated quote where they open', () => {
    expect(parse('hosts:\n  rs1: { address: 192.0.2.11\n  rs2: { address: 192.0.2.12 }\n')).toEqual(['f.yaml:2:8: hosts.rs1: YAML syntax: this { has no matching }']);
    expect(parse('a: [1, 2\nb: 3\n')).toEqual(['f.yaml:1:4: a: YAML syntax: this [ has no matching ]']);
    expect(parse('a: 1\nb: "abc\nc: 2\n')).toEqual(['f.yaml:2:4: b: YAML syntax: the double-quoted string that starts here has no closing "']);
    expect(parse("a: 1\nb: 'it''s")).toEqual(["f.yaml:2:4: b: YAML syntax: the single-quoted string that starts here has no closing '"]);
    expect(parse('a: { b: "x }\n')).toEqual(['f.yaml:1:9: a.b: YAML syntax: the double-quoted string that starts here has no closing "']);
    expect(parse('[')).toEqual(['f.yaml:1:1: YAML syntax: this [ has no matching ]']);
  });

  it('reads escaped and doubled quotes as closed', () => {
    expect(YamlSource.parse('f.yaml', `a: "x\\"y"\nb: 'it''s'\nc: ""\nd: ''`).value()).toEqual({ a: 'x"y', b: "it's", c: '', d: '' });
  });

  it('refuses a second document and directives other than %YAML 1.2', () => {
    expect(parse('a: 1\n---\nb: 2\n')).toEqual(['f.yaml:2:1: a second YAML document starts here; lvsprov reads one document per file']);
    expect(parse('%YAML 1.1\n---\na: yes\n')).toEqual(['f.yaml:1:1: directive %YAML 1.1 is not supported: lvsprov reads YAML 1.2 without directives']);
    expect(parse('%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n')[0]).toMatch(/^f\.yaml:1:1: directive %TAG/);
    expect(YamlSource.parse('f.yaml', '%YAML 1.2\n---\na: yes\n').value()).toEqual({ a: 'yes' });
  });
});

describe('tags', () => {
  it.each(['!!binary aGVsbG8=', '!!js/function "function () {}"', '!!python/object:os.system x', '!custom x', '!!timestamp 2001-12-14', '!!set {a}', '!<tag:example.com,2000:x> y'])(
    'refuses %s at the tag',
    (value) => {
      const [problem] = parse(`a: 1\nb: ${value}\n`);
      expect(problem).toMatch(/^f\.yaml:2:4: b: tag \S+ is not allowed: lvsprov reads plain data/);
    },
  );

  // The tag check runs on the tokens, before there is a tree: the path comes from the token tree.
  it.each([
    ['a value', 'hosts:\n  web1:\n    address: !!binary MTky\n', '3:14: hosts.web1.address: tag !!binary is not allowed'],
    ['a list item', 'ports:\n  - 80\n  - !foo 81\n', '3:5: ports.1: tag !foo is not allowed'],
    ['a flow list item', 'a: [x, !!set {b}]\n', '1:8: a.1: tag !!set is not allowed'],
    ['a flow mapping value', 'a: { b: 1, "c d": !!omap [] }\n', '1:19: a.c d: tag !!omap is not allowed'],
    ['a mapping on lines of its own', 'a:\n  !foo\n  b: 1\n', '2:3: a: tag !foo is not allowed'],
    ['a block scalar', 'a:\n  - b: !!python/object |\n      x\n', '2:8: a.0.b: tag !!python/object is not allowed'],
    ['a block key', 'hosts:\n  web1: {}\n  !foo web2: {}\n', '3:3: hosts.web2: tag !foo on the key web2 is not allowed'],
    ['a flow key', 'a: { b: 1, !foo "c\\td": 2 }\n', '1:12: a.c\\td: tag !foo on the key c\\td is not allowed'],
    ['an explicit key', '? !foo a\n: 1\n', '1:3: a: tag !foo on the key a is not allowed'],
    ['the key of a pair in a flow list', 'a: [x, !foo b: c]\n', '1:8: a.1.b: tag !foo on the key b is not allowed'],
    ['an empty key', 'a: { b: 1, !foo : 2 }\n', '1:12: a: tag !foo on an empty key is not allowed'],
    // As the library reads it: a tag before the first key of a mapping, with no key, is the mapping's.
    ['a mapping whose first key is empty', 'a:\n  !foo : 1\n', '2:3: a: tag !foo is not allowed'],
    ['the document', '--- !foo\na: 1\n', '1:5: tag !foo on the whole document is not allowed'],
    ['the document on a line of its own', '!!binary\na: 1\n', '1:1: tag !!binary on the whole document is not allowed'],
  ])('names the path of a refused tag on %s', (_name, text, expected) => {
    expect(parse(text)).toEqual([expect.stringMatching(new RegExp(`^f\\.yaml:${expected.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: lvsprov reads plain data`))]);
  });

  it('accepts the core tags and reads them as written', () => {
    expect(YamlSource.parse('f.yaml', 'a: !!str 0644\nb: !!int "80"\nc: !!bool true\nd: !!null\ne: !!seq [1]\nf: !!map {x: 1}\ng: ! 12\n').value()).toEqual({
      a: '0644',
      b: 80,
      c: true,
      d: null,
      e: [1],
      f: { x: 1 },
      g: '12',
    });
  });

  it('refuses a core tag on a node of the wrong kind', () => {
    expect(parse('a: !!map [1]\n')).toEqual(['f.yaml:1:4: a: tag !!map does not fit this value: !!map marks a mapping, and this is a list; remove the tag']);
  });

  it('names the path and what is wrong when a tag does not fit its value', () => {
    expect(parse('lvs:\n  services:\n    - !!str { vip: web }\n')).toEqual([
      'f.yaml:3:7: lvs.services.0: tag !!str does not fit this value: !!str marks a string, and this is a mapping; remove the tag (or quote the text if a string was meant)',
    ]);
    expect(parse('a:\n  b: !!seq x\n  c: !!str\n    - 1\n')).toEqual([
      'f.yaml:2:6: a.b: tag !!seq does not fit this value: !!seq marks a list, and this is a single value; remove the tag',
      'f.yaml:3:6: a.c: tag !!str does not fit this value: !!str marks a string, and this is a list; remove the tag (or quote the text if a string was meant)',
    ]);
    expect(parse('port: !!int 80.5\n')).toEqual(['f.yaml:1:7: port: tag !!int does not fit this value: "80.5" is not an integer as YAML 1.2 writes one (42, -7, 0o17, 0x1F)']);
    expect(parse('on: !!bool yes\n')).toEqual(['f.yaml:1:5: on: tag !!bool does not fit this value: "yes" is not true or false (YAML 1.2 reads yes, no, on and off as strings)']);
    expect(parse('x: [!!float 0x1F]\n')).toEqual(['f.yaml:1:5: x.0: tag !!float does not fit this value: "0x1F" is not a number as YAML 1.2 writes a float (80, 1.5, -2e3, .inf, .nan)']);
    expect(parse('!!int a: 1\n')).toEqual(['f.yaml:1:1: a: tag !!int does not fit this value: "a" is not an integer as YAML 1.2 writes one (42, -7, 0o17, 0x1F)']);
  });

  it('reads !!float on an integer as YAML 1.2 does: the number', () => {
    expect(YamlSource.parse('f.yaml', 'port: !!float 80\nweight: !!float -3\nb: !!float 1.5\n').value()).toEqual({ port: 80, weight: -3, b: 1.5 });
  });
});

describe('keys', () => {
  it('refuses a duplicate key at the second one, naming the first line', () => {
    expect(parse('hosts:\n  rs1: {}\n  rs2: {}\n  rs1: {}\n')).toEqual(['f.yaml:4:3: hosts.rs1: duplicate key rs1 (first at line 2); a mapping holds each key once']);
  });

  it('counts keys that become the same JavaScript key as duplicates', () => {
    expect(parse('80: a\n"80": b\n')).toEqual(['f.yaml:2:1: 80: duplicate key 80 (first at line 1); a mapping holds each key once']);
  });

  it('refuses keys that are not names', () => {
    expect(parse('? [a, b]\n: c\n')).toEqual(['f.yaml:1:3: a key must be a plain name, not a mapping or a list']);
    expect(parse('{a: 1}: c\n')).toEqual(['f.yaml:1:1: a key must be a plain name, not a mapping or a list']);
    expect(parse('a: &k x\n*k : y\n')).toEqual(['f.yaml:2:1: a key cannot be an alias (*k); write the key out']);
    expect(parse('"": x\n')).toEqual(['f.yaml:1:1: empty key: write a name before the colon']);
    // Below the top, the mapping's path: the key has no name to add to it.
    expect(parse('hosts:\n  ? [a, b]\n  : c\n')).toEqual(['f.yaml:2:5: hosts: a key must be a plain name, not a mapping or a list']);
    expect(parse('a: &k x\nb:\n  - *k : y\n')).toEqual(['f.yaml:3:5: b.0: a key cannot be an alias (*k); write the key out']);
    expect(parse('vars: { "": x }\n')).toEqual(['f.yaml:1:9: vars: empty key: write a name before the colon']);
    // A key renamed by YAML is named as written: the name it becomes is not in the file.
    expect(parse('hosts:\n  010: {}\n')).toEqual(['f.yaml:2:3: hosts.010: key 010 reads as the number 10 in YAML: put it in quotes ("010") to keep the name as written']);
  });

  it('refuses __proto__ as a key, quoted or not, at the key', () => {
    expect(parse('hosts:\n  __proto__: { address: 192.0.2.1 }\n')).toEqual(['f.yaml:2:3: hosts.__proto__: __proto__ cannot be a name (JavaScript reserves it); choose another']);
    expect(parse('- { name: x, "__proto__": 1 }\n')).toEqual(['f.yaml:1:14: 0.__proto__: __proto__ cannot be a name (JavaScript reserves it); choose another']);
  });

  // Linear, not quadratic: the check does a fixed number of key operations per key (a lookup, and an
  // insertion for a key not seen before), counted rather than timed. A pairwise check (the YAML
  // library's own, before) compares each key with every earlier one: n(n-1)/2 comparisons. The
  // library composes with its own check off: the duplicate-key messages above are lvsprov's.
  it('finds duplicates with a number of key operations linear in the number of keys', () => {
    const workFor = (keys: number, duplicates: number): number => {
      const lines = Array.from({ length: keys }, (_, i) => `host${i}: { address: 192.0.2.1 }`);
      for (let i = 0; i < duplicates; i += 1) lines.push(`host${i * 7}: 1`);
      const text = `hosts:\n${lines.map((line) => `  ${line}`).join('\n')}\n`;
      const lineCounter = new LineCounter();
      const [document] = new Composer({ uniqueKeys: false }).compose(new Parser(lineCounter.addNewLine).parse(text));
      const work = { keyOperations: 0 };
      const problems = checkTree(document!.contents, (offset) => lineCounter.linePos(offset).line, work);
      expect(problems).toHaveLength(duplicates);
      return work.keyOperations;
    };
    // Per host: its name looked up and inserted, and the same for its address; plus `hosts`.
    expect(workFor(1_000, 0)).toBe(2 + 1_000 * 4);
    expect(workFor(10_000, 0)).toBe(2 + 10_000 * 4);
    // A duplicate costs one lookup: it is found, not inserted.
    expect(workFor(1_000, 100)).toBe(2 + 1_000 * 4 + 100);
  });
});

describe('aliases', () => {
  it('refuses an alias without an anchor before it', () => {
    expect(parse('a: *nope\n')).toEqual(['f.yaml:1:4: a: alias *nope has no anchor &nope before it']);
    expect(parse('a: *later\nb: &later 1\n')).toEqual(['f.yaml:1:4: a: alias *later has no anchor &later before it']);
    expect(parse('a:\n  - x\n  - [y, *nope]\n')).toEqual(['f.yaml:3:9: a.1.1: alias *nope has no anchor &nope before it']);
    // An alias as a key is at the mapping, as the key has no name.
    expect(parse('hosts:\n  *nope : 1\n')).toEqual(['f.yaml:2:3: hosts: a key cannot be an alias (*nope); write the key out', 'f.yaml:2:3: hosts: alias *nope has no anchor &nope before it']);
  });

  it('refuses an alias inside the node it refers to', () => {
    expect(parse('a: &x\n  b: *x\n')).toEqual(['f.yaml:2:6: a.b: alias *x is inside the node &x it refers to, which would make it endless']);
  });

  it('refuses an alias bomb at the alias that crosses the bound, in linear time', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let level = 1; level < 40; level += 1) {
      const previous = String.fromCharCode(96 + level);
      levels.push(`${String.fromCharCode(97 + level)}: &${String.fromCharCode(97 + level)} [${Array(10).fill(`*${previous}`).join(', ')}]`);
    }
    const [problem] = parse(levels.slice(0, 26).join('\n'));
    expect(problem).toMatch(/^f\.yaml:4:\d+: d\.\d: alias \*c makes the file expand to more than \d+ nodes \(it holds \d+\)/);
  });

  it('accepts aliases that share a block a few times', () => {
    const text = 'common: &common { port: 80, weight: 2 }\nservices:\n' + Array.from({ length: 500 }, () => '  - *common').join('\n');
    const value = YamlSource.parse('f.yaml', text).value() as { services: unknown[] };
    expect(value.services).toHaveLength(500);
    expect(value.services[499]).toEqual({ port: 80, weight: 2 });
  });
});
