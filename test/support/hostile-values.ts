import { spawnSync } from 'node:child_process';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { CompiledRun } from '../../src/config/compile.js';
import { resourceTypes } from '../../src/resources/registry.js';
import type { AnyResourceType, Change } from '../../src/resources/types.js';

// The pieces of the hostile-value sweep (test/unit/hostile-values.test.ts): the scalar leaves and
// free-form names of an inventory, the hostile values put in their place (as the YAML text that
// writes them), what a host where lvsprov never ran makes of the compiled tasks (probe scripts,
// change commands, file contents), and the checks that a value accepted is inert in each.

/** What every hostile string carries, so that where it lands can be found in the output. */
export const MARKER = 'touch /tmp/x';
/** What a value with a line break tries to start a line of its own with. */
export const INJECTED = 'INJ=';

export interface Hostile {
  readonly label: string;
  /** The YAML text written in place of the node; `alias` also anchors the inventory's name. */
  readonly yaml: string;
  readonly alias?: boolean;
  /** Fit for a map key (a host, group, VIP or variable name). */
  readonly key?: boolean;
}

const quoted = (text: string): string => JSON.stringify(text);
const str = (label: string, text: string): Hostile => ({ label, yaml: quoted(text), key: true });

export const HOSTILE: readonly Hostile[] = [
  str('command substitution', `$(${MARKER})`),
  str('backticks', `\`${MARKER}\``),
  str('semicolon', `a;${MARKER}`),
  str('single quote', `a'$(${MARKER})'`),
  str('double quote', `a"$(${MARKER})"`),
  str('backslash', `a\\$(${MARKER})\\`),
  str('line feed', `a\n${INJECTED}${MARKER}`),
  str('carriage return', `a\r${INJECTED}${MARKER}`),
  str('NUL', `a\0${MARKER}`),
  str('tab', `a\t${MARKER}`),
  str('percent', `%n%s%%${MARKER}`),
  str('template open', `{{web_root}}${MARKER}`),
  str('template close', `}}{{${MARKER}`),
  str('leading dash', `-${MARKER.replace(' ', '')}`),
  str('double dash', '--help'),
  str('blank', `a ${MARKER}`),
  str('comment sign', `a#${MARKER}`),
  str('braces', `a}${MARKER}{`),
  str('html', `<script>${MARKER}</script>&`),
  str('line separator', `a\u2028${INJECTED}${MARKER}`),
  str('paragraph separator', `a\u2029${INJECTED}${MARKER}`),
  str('next line', `a\u0085${INJECTED}${MARKER}`),
  str('bidi override', `a\u202e${MARKER}`),
  str('byte order mark', `\ufeff${MARKER}`),
  str('odd UTF-8 (astral, combining)', `a\u{1F4A9}\u0301${MARKER}`),
  str('empty', ''),
  str('long', `${'a'.repeat(5000)}$(${MARKER})`),
  { label: 'number', yaml: '12', key: true },
  { label: 'negative number', yaml: '-1' },
  { label: 'huge number', yaml: '1e400' },
  { label: 'hex number', yaml: '0x50' },
  { label: 'boolean', yaml: 'true' },
  { label: 'null', yaml: '~' },
  { label: '!!binary', yaml: `!!binary ${Buffer.from(`$(${MARKER})`).toString('base64')}` },
  { label: '!!str number', yaml: '!!str 80' },
  { label: '!!int string', yaml: '!!int "80"' },
  { label: 'anchor', yaml: `&h ${quoted(`$(${MARKER})`)}` },
  { label: 'alias', yaml: '*top', alias: true },
  { label: 'mapping', yaml: `{a: ${quoted(`$(${MARKER})`)}}` },
  { label: 'sequence', yaml: `[${quoted(`$(${MARKER})`)}]` },
];

export type PathSegment = string | number;

export interface Leaf {
  readonly path: readonly PathSegment[];
  /** Where its text is: [start, end) of the source. */
  readonly range: readonly [number, number];
  /** The scalar's text as a string: for a key, the name others refer to it by. */
  readonly value: string;
  readonly isKey: boolean;
  /** A key of a map whose keys are names the operator chooses. */
  readonly freeName: boolean;
  /** Where each ancestor's key starts, outermost first. */
  readonly ancestors: readonly number[];
}

/** Maps whose keys the operator names, by the last segments of their path. */
const FREE_MAPS: ReadonlyArray<(path: readonly PathSegment[]) => boolean> = [
  (path) => path.length === 1 && (path[0] === 'hosts' || path[0] === 'groups'),
  (path) => path.join('.') === 'lvs.vips' || path.join('.') === 'lvs.ha.directors',
  (path) => path[path.length - 1] === 'vars',
];

/** Every scalar leaf and every map key of the document, in source order. */
export function leavesOf(text: string): Leaf[] {
  const doc = parseDocument(text, { keepSourceTokens: false });
  const leaves: Leaf[] = [];
  const walk = (node: unknown, path: PathSegment[], ancestors: number[]): void => {
    if (isScalar(node)) {
      if (node.range) leaves.push({ path, range: [node.range[0], node.range[1]], value: String(node.value), isKey: false, freeName: false, ancestors });
    } else if (isMap(node)) {
      const free = FREE_MAPS.some((test) => test(path));
      for (const pair of node.items) {
        if (!isPair(pair) || !isScalar(pair.key) || !pair.key.range) continue;
        const key = String(pair.key.value);
        const keyRange: [number, number] = [pair.key.range[0], pair.key.range[1]];
        leaves.push({ path: [...path, key], range: keyRange, value: key, isKey: true, freeName: free, ancestors });
        walk(pair.value, [...path, key], [...ancestors, keyRange[0]]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item, [...path, index], [...ancestors, (item as Node).range?.[0] ?? -1]));
    }
  };
  walk(doc.contents, [], []);
  return leaves;
}

/** The path with host names and list indices generalised: one leaf stands for the others like it. */
export function shapeOf(leaf: Leaf): string {
  const parts = leaf.path.map((segment, index) => {
    const parent = leaf.path.slice(0, index);
    if (typeof segment === 'number') return '#';
    if (FREE_MAPS.some((test) => test(parent)) && !(parent[parent.length - 1] === 'vars')) return '*';
    return segment;
  });
  return `${leaf.isKey ? 'key ' : ''}${parts.join('.')}`;
}

export interface Variant {
  readonly text: string;
  /** The ranges of the new text that hold the hostile value. */
  readonly replaced: ReadonlyArray<readonly [number, number]>;
}

/** The inventory text with `leaf` written as `hostile`: a free name renamed everywhere it is used. */
export function variantOf(text: string, leaves: readonly Leaf[], leaf: Leaf, hostile: Hostile): Variant {
  const edits: Array<{ range: readonly [number, number]; text: string }> = [];
  if (leaf.isKey && leaf.freeName) {
    for (const other of leaves) if (other.value === leaf.value && !(other.isKey && !other.freeName)) edits.push({ range: other.range, text: hostile.yaml });
  } else {
    edits.push({ range: leaf.range, text: hostile.yaml });
  }
  if (hostile.alias) {
    const name = leaves.find((other) => !other.isKey && other.path.length === 1 && other.path[0] === 'name');
    if (!name) throw new Error('the inventory has no name to anchor');
    edits.push({ range: [name.range[0], name.range[0]], text: '&top ' });
  }
  edits.sort((a, b) => a.range[0] - b.range[0]);
  let out = '';
  let at = 0;
  const replaced: Array<[number, number]> = [];
  for (const edit of edits) {
    out += text.slice(at, edit.range[0]);
    replaced.push([out.length, out.length + edit.text.length]);
    out += edit.text;
    at = edit.range[1];
  }
  return { text: out + text.slice(at), replaced };
}

/** The offset of a 1-based line and column in `text`. */
export function offsetOf(text: string, line: number, col: number): number {
  const counter = new LineCounter();
  parseDocument(text, { lineCounter: counter });
  return (counter.lineStarts[line - 1] ?? Number.NaN) + col - 1;
}

// What a host where lvsprov never ran prints for each type's probe: each tried in turn until one
// parses and plans (the types whose empty output means 'nothing here' need none).
const EMPTY_HOST: Readonly<Record<string, readonly string[]>> = {
  kmod: ['K absent\nF-\n'],
  at_boot: ['D systemd\nE \nF-\n', 'D sysv\nE disabled\nT update-rc.d\nF-\n'],
  fwmark: ['T absent\nF-\n'],
  allowlist: ['T absent\nF-\n'],
  ipvs: ['I 0\nO ID=debian\nF-\nF-\n'],
  package: ['M apt\nS \nC no\n'],
  service: ['D systemd\nL LoadState=not-found\nA inactive\nE \nF-\nW -\n', 'D none\nP 3\n'],
  keepalived: ['K 1\nF-\nR 0\nM sysv\nE disabled\nT update-rc.d\nI 0\n'],
};

export interface HostOutput {
  /** Probe scripts and change commands: what reaches a shell. */
  readonly shell: string[];
  /** Files the changes write, with their content. */
  readonly files: Array<{ readonly path: string; readonly content: string }>;
  /** Tasks no empty-host output could plan (the same ones for every variant of an inventory). */
  readonly unplanned: string[];
}

/** What each host's tasks would do on an empty host: every probe, command and file content. */
export function emptyHostOutput(run: CompiledRun): HostOutput {
  const out: HostOutput = { shell: [], files: [], unplanned: [] };
  for (const [host, tasks] of run.hosts) {
    for (const task of tasks) {
      const type = (resourceTypes as Record<string, AnyResourceType>)[task.type]!;
      out.shell.push(type.probe(task.spec));
      const outputs = EMPTY_HOST[task.type] ?? [''];
      let planned = false;
      for (const stdout of outputs) {
        let changes: Change[];
        try {
          changes = type.plan(task.spec, type.parse({ stdout, status: 0 }, task.spec), { host });
        } catch {
          continue;
        }
        planned = true;
        for (const change of changes) {
          out.shell.push(...change.commands);
          if (change.holderCheck) out.shell.push(change.holderCheck.command);
          if (change.diff?.kind === 'file') out.files.push({ path: change.resource.replace(/^[a-z_]+ /, ''), content: change.diff.after });
        }
      }
      if (!planned) out.unplanned.push(`${host}: ${task.name}`);
    }
  }
  return out;
}

type Context = 'plain' | 'single' | 'double' | 'comment' | 'quoted-heredoc' | 'heredoc';

/**
 * The shell context of each occurrence of `needle` in `script` (a POSIX sh lexer that knows
 * quotes, backslashes, comments and here-documents), and whether the script ends inside a quote.
 */
export function shellContexts(script: string, needle: string): { contexts: Context[]; unterminated: boolean } {
  const at = new Map<number, Context>();
  for (let index = script.indexOf(needle); index >= 0; index = script.indexOf(needle, index + 1)) at.set(index, 'plain');
  let state: Context = 'plain';
  const pending: Array<{ delimiter: string; quoted: boolean }> = [];
  const frames: Array<{ resume: Context; depth: number }> = [];
  let wordStart = true;
  let i = 0;
  const mark = (): void => {
    if (at.has(i)) at.set(i, state);
  };
  while (i < script.length) {
    mark();
    const c = script[i]!;
    if (state === 'single') {
      if (c === "'") state = 'plain';
      i += 1;
      continue;
    }
    if (state === 'comment') {
      if (c === '\n') state = 'plain';
      else {
        i += 1;
        continue;
      }
    }
    if (state === 'double') {
      if (c === '\\') i += 2;
      else if (c === '$' && script[i + 1] === '(') {
        // A command substitution inside double quotes is read as a script of its own.
        frames.push({ resume: 'double', depth: 0 });
        state = 'plain';
        i += 2;
      } else {
        if (c === '"') state = 'plain';
        i += 1;
      }
      continue;
    }
    // plain
    if (c === '\\') {
      i += 2;
      wordStart = false;
      continue;
    }
    const frame = frames[frames.length - 1];
    if (frame && c === '(') frame.depth += 1;
    if (frame && c === ')' && frame.depth-- === 0) {
      frames.pop();
      state = frame.resume;
      i += 1;
      continue;
    }
    if (c === "'") state = 'single';
    else if (c === '"') state = 'double';
    else if (c === '#' && wordStart) {
      state = 'comment';
      i += 1;
      continue;
    } else if (c === '<' && script[i + 1] === '<' && script[i + 2] !== '<') {
      const match = /^<<-?\s*(['"]?)([A-Za-z0-9_]+)\1/.exec(script.slice(i));
      if (match) {
        pending.push({ delimiter: match[2]!, quoted: match[1] !== '' });
        i += match[0].length;
        continue;
      }
    } else if (c === '\n' && pending.length > 0) {
      // The here-documents' bodies follow the line that opens them.
      i += 1;
      for (const doc of pending.splice(0)) {
        const bodyState: Context = doc.quoted ? 'quoted-heredoc' : 'heredoc';
        while (i < script.length) {
          const end = script.indexOf('\n', i);
          const line = script.slice(i, end < 0 ? script.length : end);
          if (line.replace(/^\t+/, '') === doc.delimiter) {
            i = end < 0 ? script.length : end + 1;
            break;
          }
          for (let j = i; j < i + line.length; j += 1) if (at.has(j)) at.set(j, bodyState);
          i = end < 0 ? script.length : end + 1;
        }
      }
      wordStart = true;
      continue;
    }
    wordStart = /[\s;&|()<>]/.test(c);
    i += 1;
  }
  return { contexts: [...at.values()], unterminated: state === 'single' || state === 'double' || pending.length > 0 || frames.length > 0 };
}

/** Problems `sh -n` finds in the scripts (syntax only; nothing runs): one dash for them all. */
export function syntaxProblems(scripts: readonly string[]): string[] {
  const problems: string[] = [];
  // Each script is checked alone, in a function body that is never called, one dash for them all.
  const text = scripts.map((script, index) => `f${index}() {\n${script}\n}\n`).join('');
  const result = spawnSync('dash', ['-n'], { input: text, encoding: 'utf8' });
  if (result.status !== 0) problems.push(result.stderr.trim());
  return problems;
}

/** Whether `isMap`/`isSeq` nodes or scalars hold a path: a problem's dotted path against a leaf's. */
export function pathsAgree(problemPath: string, leafPath: readonly PathSegment[]): boolean {
  if (problemPath === '') return false;
  const leaf = leafPath.map(String);
  const said = problemPath.split('.');
  const n = Math.min(said.length, leaf.length);
  for (let index = 0; index < n; index += 1) if (said[index] !== leaf[index]) return false;
  return true;
}
