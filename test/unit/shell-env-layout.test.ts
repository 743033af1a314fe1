import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTemplate, type Vocabulary } from '../../src/config/template-check.js';
import { parseTemplate, renderTemplateFile } from '../../src/config/template-render.js';

// A shell-env template's values are escaped for the inside of double quotes, so the reader that
// accepts a layout must never accept one where sh reads a value elsewhere. Each accepted layout
// here is rendered with a hostile value and sourced by dash and by bash, which must run nothing;
// each refused attack, rendered anyway, must run the command in at least one of them (so the
// harness would see a reader that let it through).

const vocabulary: Vocabulary = { root: { type: 'object', fields: { motd: { type: 'string' } } }, unknownHint: () => 'declare it' };
const problems = (text: string): string[] => checkTemplate(parseTemplate(text), vocabulary, 'shell-env').map(({ line, col, message }) => `${line}:${col} ${message}`);
const hostile = `x;touch pwned;'$(touch pwned)\`touch pwned\`";touch pwned;"' ;touch pwned; `;

const scratch = mkdtempSync(join(tmpdir(), 'lvsprov-shell-env-layout-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let runs = 0;

/** The shells that sourced the rendered template and ran the hostile value's command. */
function shellsThatRan(text: string): string[] {
  const ran: string[] = [];
  for (const shell of ['dash', 'bash']) {
    const dir = join(scratch, String(++runs));
    mkdirSync(dir);
    try {
      writeFileSync(join(dir, 'env'), renderTemplateFile(text, { motd: hostile }, 'shell-env'));
      spawnSync(shell, ['-c', '. ./env'], { cwd: dir, env: { PATH: '/usr/bin:/bin' }, stdio: 'ignore', timeout: 5000 });
      if (readdirSync(dir).includes('pwned')) ran.push(shell);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return ran;
}

describe('shell-env: substitutions and here-documents', () => {
  it.each([
    ['$(...) whose text opens a double quote, the value on the next line', 'X="$(echo "\nMOTD="{{motd}}"\n")"\n', /^2:7 .*no value follows a command substitution/],
    ['backticks across lines', 'X=`\nMOTD="{{motd}}"\n`\n', /^2:7 .*no value follows a command substitution/],
    ['a case inside $(...), whose ) is not the substitution\'s', 'X="$(case a in a) echo "\nMOTD="{{motd}}"\n";; esac)"\n', /^2:7 .*no value follows a command substitution/],
    ['two here-documents on one line, the value in the second', 'sh <<A <<B\nA\nMOTD="{{motd}}"\nB\n', /^3:7 .*no value stands in a here-document \(<<B\)/],
    ['two here-documents on one line, the value in the first', 'sh <<A 3<<B\nMOTD="{{motd}}"\nA\nB\n', /^2:7 .*no value stands in a here-document \(<<A\)/],
  ])('%s is refused at the value, and runs the value when rendered anyway', (_, text, message) => {
    const found = problems(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
    expect(shellsThatRan(text)).not.toEqual([]);
  });

  // Not every one of these would run the value, but none is read far enough to tell.
  it.each([
    ['${...} whose default holds a double quote', 'X="${Y:-"\nMOTD="{{motd}}"\n"}"\n'],
    ['a nested substitution', 'X=$(( $((1)) ))\nMOTD="{{motd}}"\n'],
    ['a substitution left open at the end of its line', 'X=$(true\n)\nMOTD="{{motd}}"\n'],
  ])('after %s, a value is refused', (_, text) => {
    expect(problems(text)).toEqual([expect.stringMatching(/no value follows a command substitution/)]);
  });

  it.each([
    'X="$(hostname)"\nMOTD="{{motd}}"\n',
    'X=`uname -r` Y="`uname -m`"\nMOTD="{{motd}}"\n',
    'X="${HOME:-/root}" Y=${PATH%%:*}\nMOTD="{{motd}}"\n',
    'X=$((1 << 2)) Y="$(( (3) << (1) ))"\nMOTD="{{motd}}"\n',
    'X="$( (echo a) )"\nMOTD="{{motd}}"\n',
    'cat <<A <<B >/dev/null\nA\nB\nMOTD="{{motd}}"\n',
    "X='$(' Y='`'\nMOTD=\"{{motd}}\"\n",
    '# $( ` ${ in a comment\nMOTD="{{motd}}"\n',
  ])('%j is accepted, and sourcing it with a hostile value runs nothing', (text) => {
    expect(problems(text)).toEqual([]);
    expect(shellsThatRan(text)).toEqual([]);
  });

  it('accepts no layout, of two thousand made at random from shell lines and fragments, where dash or bash runs the value', () => {
    // Pairs of lines that open and close what a value could hide in, and fragments to make other lines of.
    const pairs = [['X="$(echo "', '")"'], ['X=`echo "', '"`'], ['X="$(case a in a) echo "', '";; esac)"'], ['sh <<A 3<<B\nA', 'B'], ['sh <<A 3<<B', 'A\nB'], ['sh <<E', 'E'], ["X='", "'"], ['X="', '"'], ['X="${Y:-"', '"}"'], ['X=$(sh <<E', 'E\n)'], ['{{#if motd}}X="{{/if}}', '{{#if motd}}"{{/if}}']];
    const fragments = ['X="', '"', "'", '$(', ')', '(', '`', '\\', '#', ' ', ';', '<<E', '<<-E', '3<<F', 'E', 'F', 'case a in a)', ';;', 'esac', '${X:-', '}', '$((1<<2))', 'echo ', 'sh ', ':', '$', '{{#if motd}}', '{{else}}', '{{/if}}'];
    let seed = 0x5eed;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const line = (depth = 0): string => {
      const kind = random(10);
      if (kind < 3) return 'MOTD="{{motd}}"';
      if (kind < 7 && depth < 2) {
        const [open, close] = pairs[random(pairs.length)] as [string, string];
        return `${open}\n${line(depth + 1)}\n${close}`;
      }
      return Array.from({ length: 1 + random(4) }, () => fragments[random(fragments.length)]).join('');
    };
    let accepted = 0;
    for (let round = 0; round < 2000; round++) {
      const text = `${Array.from({ length: 1 + random(3) }, () => line()).join('\n')}\n`;
      let found: string[];
      try {
        found = problems(text);
      } catch {
        continue; // not a template handlebars parses (an {{/if}} without its {{#if}})
      }
      if (found.length > 0 || !text.includes('{{motd}}')) continue;
      accepted += 1;
      expect(shellsThatRan(text), text).toEqual([]);
    }
    // The fragments make layouts the reader accepts, not only ones it refuses.
    expect(accepted).toBeGreaterThan(100);
  });
});
