import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTemplate, type Vocabulary } from '../../src/config/template-check.js';
import { parseTemplate, renderTemplateFile } from '../../src/config/template-render.js';
import type { OutputFormat } from '../../src/config/output-formats.js';
import type { VariableType } from '../../src/config/variable-types.js';

// What a role's template may read, checked when the role loads. Block parameters
// (`{{#each xs as |x i|}}`, `{{#with x as |y|}}`) are names like any other: a field their value
// does not have is an error at the place that reads it.

const vip: VariableType = { type: 'object', fields: { address: { type: 'ipv4' }, label: { type: 'label' } } };
const vocabulary: Vocabulary = {
  root: { type: 'object', fields: { vips: { type: 'list', items: vip }, first: vip, motd: { type: 'string' } } },
  unknownHint: () => 'declare it',
};
const problems = (text: string, format?: OutputFormat) => checkTemplate(parseTemplate(text), vocabulary, format).map(({ line, col, message }) => `${line}:${col} ${message}`);

describe('block parameters are checked like the names they stand for, and each reads a list', () => {
  it.each([
    '{{#each vips as |vip|}}{{vip.address}} {{vip.label}}{{/each}}',
    '{{#each vips as |vip i|}}{{i}}: {{vip.address}} {{address}} {{../motd}}{{/each}}',
    '{{#each vips as |vip|}}{{#each ../vips as |other|}}{{vip.address}} {{other.label}}{{/each}}{{/each}}',
    '{{#with first as |f|}}{{f.address}} {{label}}{{/with}}',
    '{{#each vips as |motd|}}{{motd.address}}{{/each}}',
    '{{#each vips as |vip|}}{{this.address}}{{/each}}',
  ])('%s reads only what exists', (text) => {
    expect(problems(text)).toEqual([]);
  });

  it.each([
    ['{{#each vips as |vip|}}{{vip.adress}}{{/each}}', '1:26 vip has no field adress: did you mean `address`? (known: address, label)'],
    ['{{#each vips as |vip|}}{{nope}}{{/each}}', '1:26 the item has no field nope (known: address, label)'],
    ['{{#each vips as |vip i|}}{{i.x}}{{/each}}', '1:28 i is not an object; it has no field x'],
    ['{{#with first as |f|}}{{f.nope}}{{/with}}', '1:25 f has no field nope (known: address, label)'],
    ['{{#each vips as |vip|}}{{#if vip}}{{vip.labl}}{{/if}}{{/each}}', '1:37 vip has no field labl: did you mean `label`? (known: address, label)'],
    ['{{#each vips as |vip|}}{{#each ../vips}}{{vip.nope}}{{/each}}{{/each}}', '1:43 vip has no field nope (known: address, label)'],
    ['{{#each vips as |vip|}}{{/each}}{{vip.address}}', '1:35 variable vip is not declared: declare it'],
    ['{{#each motd}}{{this}}{{/each}}', '1:9 each must name a list; motd is one line of text'],
    ['{{#each first.address as |a|}}{{a}}{{/each}}', '1:9 each must name a list; first.address is an IPv4 address'],
  ])('%s is refused where it reads', (text, expected) => {
    expect(problems(text)).toEqual([expected]);
  });
});

// A shell-env value is escaped for the inside of double quotes, so it must be read by sh inside
// them: the template's own text is read as sh reads it (quotes across lines, comments, line
// continuations, blocks that may not render). Each refused layout below let a value end a single
// quote or stand unquoted, where `;` runs a command.
describe('shell-env: a value stands where sh reads it inside double quotes', () => {
  const shellEnv = (text: string) => problems(text, 'shell-env');
  const hostile = "'; touch pwned; ' \"; touch pwned; \" x; touch pwned";

  it.each([
    'MOTD="{{motd}}"\n',
    "# Don't edit: it's \"managed\"\nMOTD=\"{{motd}}\"  # the motd's text\n",
    'A=\'it\'\nMOTD="{{motd}}"\n',
    'AUTO="{{#if motd}}false{{else}}true{{/if}}"\nMOTD="{{motd}}"\n',
    '{{#each vips}}\nV="{{address}}"\n{{/each}}\n',
    'cat <<EOF\nliteral text\nEOF\nMOTD="{{motd}}"\n',
    "cat <<-'E'\n\tA=\"x\"\n\tE\nMOTD=\"{{motd}}\"\n",
    'X=a\\\\\nMOTD="{{motd}}"\n',
    // A shift in an arithmetic expansion opens no here-document.
    'X=$((1 << 2)) Y=$(( (3) << (1) ))\nMOTD="{{motd}}"\n',
  ])('%j is accepted, and sourcing it with a hostile value runs nothing', (text) => {
    expect(shellEnv(text)).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'lvsprov-shell-env-'));
    try {
      writeFileSync(join(dir, 'env'), renderTemplateFile(text, { motd: hostile, vips: [{ address: hostile }] }, 'shell-env'));
      const run = spawnSync('sh', ['-c', '. ./env >/dev/null'], { cwd: dir, env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      expect(readdirSync(dir)).toEqual(['env']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ["A='it\nMOTD=\"{{motd}}\"\n'\n", /^2:7 .*on a line that starts inside a single quote \(\'\) opened on an earlier line/],
    ['A="x\nMOTD="{{motd}}"\n"\n', /^2:7 .*on a line that starts inside a double quote/],
    ['A=x\\\nMOTD="{{motd}}"\n', /^2:7 .*on a line joined to the one before by a backslash/],
    ['{{#if motd}}"{{/if}}MOTD="{{motd}}"\n', /^1:1 the text of this \{\{#if\}\} block leaves a double quote \("\) open where it found no quote/],
    ["{{#each vips}}'{{/each}}\nMOTD=\"{{motd}}\"\n", /^1:1 the text of this \{\{#each\}\} block leaves a single quote/],
    ["{{#if motd}}{{else}}A='{{/if}}\nMOTD=\"{{motd}}\"\n", /^1:1 the text of this \{\{#if\}\} block leaves a single quote/],
    ['MOTD="{{motd}}"\r\n', /^1:16 a carriage return \(a line end saved as CRLF\?\)/],
    ['export MOTD="{{motd}}"\n', /^1:14 in a shell-env template each value stands alone in double quotes/],
    // A here-document's body goes to a command as input: to sh, a KEY="..." line runs with its escaping undone.
    ['sh <<E\nMOTD="{{motd}}"\nE\n', /^2:7 in a shell-env template no value stands in a here-document \(<<E\)/],
    ['cat <<EOF\nMOTD="{{motd}}"\nEOF\n', /^2:7 .*no value stands in a here-document \(<<EOF\)/],
    ["sh <<-'END' # a comment\n\tMOTD=\"{{motd}}\"\n\tEND\n", /^2:8 .*no value stands in a here-document \(<<END\)/],
    ['. /dev/stdin <<\\E\nMOTD="{{motd}}"\nE\n', /^2:7 .*no value stands in a here-document \(<<E\)/],
    ['X=$((1 << 2))\nsh <<E\nMOTD="{{motd}}"\nE\n', /^3:7 .*no value stands in a here-document \(<<E\)/],
  ])('%j is refused at the value or block', (text, message) => {
    const found = shellEnv(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it('the harness sees the here-document attack: sh <<E with a KEY="..." line, rendered anyway, runs $(...)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsprov-shell-env-'));
    try {
      writeFileSync(join(dir, 'env'), renderTemplateFile('sh <<E\nMOTD="{{motd}}"\nE\n', { motd: '$(touch pwned)' }, 'shell-env'));
      spawnSync('sh', ['-c', '. ./env >/dev/null 2>&1'], { cwd: dir, env: { PATH: '/usr/bin:/bin' } });
      expect(readdirSync(dir)).toContain('pwned');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the harness sees the attack: the first refused layout, rendered anyway, runs the command', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsprov-shell-env-'));
    try {
      writeFileSync(join(dir, 'env'), renderTemplateFile("A='it\nMOTD=\"{{motd}}\"\n'\n", { motd: hostile }, 'shell-env'));
      spawnSync('sh', ['-c', '. ./env >/dev/null 2>&1'], { cwd: dir, env: { PATH: '/usr/bin:/bin' } });
      expect(readdirSync(dir)).toContain('pwned');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// An html value is escaped as HTML text: inert in an element's content and in a quoted attribute
// value, not in code (script, style, on* and style attributes), not as a URL's start, and not in
// an unquoted attribute or a tag's names. Each refused layout was accepted before.
describe('html: a value stands where HTML escaping keeps it text', () => {
  const html = (text: string) => problems(text, 'html');

  it.each([
    '<!doctype html>\n<title>{{motd}}</title>\n<p class="a {{motd}}" title=\'{{motd}}\'>{{motd}} &lt; {{{motd}}}</p>\n',
    '<a href="/pages/{{motd}}">{{motd}}</a><img src="https://example.org/{{motd}}.png">',
    '<!-- {{motd}} --><p>a < b {{motd}}</p><script src="/x.js"></script>{{motd}}',
    '<ul>{{#each vips}}<li data-label="{{label}}">{{address}}</li>{{/each}}</ul>',
    '<p class="{{#if motd}}on{{else}}off{{/if}}">x</p>',
    '<a href="mailto:{{motd}}">x</a><img srcset="/a.png 1x, /b/{{motd}}.png 2x"><meta name="description" content="{{motd}}">',
    '<meta http-equiv="refresh" content="5; url=/pages/{{motd}}">',
  ])('%j is accepted', (text) => {
    expect(html(text)).toEqual([]);
  });

  it.each([
    ['<script>var motd = {{motd}};</script>', /^1:20 in an html template this value stands inside <script>/],
    ['<STYLE>\np { color: {{motd}} }\n</STYLE>', /^2:12 .*stands inside <style>/],
    ['<p onclick="show(\'{{motd}}\')">x</p>', /^1:19 .*stands in the attribute onclick, whose value is code/],
    ['<p style="color: {{motd}}">x</p>', /^1:18 .*stands in the attribute style/],
    ['<a href="{{motd}}">x</a>', /^1:10 .*stands where the URL of the attribute href can still choose its scheme/],
    // A browser drops the blanks before a URL, and letters before the value join its scheme (java{{x}} with x = script:...).
    ['<a href=" {{motd}}">x</a>', /^1:11 .*URL of the attribute href can still choose its scheme/],
    ['<a href="\t{{motd}}">x</a>', /URL of the attribute href can still choose its scheme/],
    ['<a href="java{{motd}}">x</a>', /URL of the attribute href can still choose its scheme/],
    ['<img srcset="/a.png 1x, {{motd}} 2x">', /URL of the attribute srcset can still choose its scheme/],
    ['<iframe srcdoc="{{motd}}"></iframe>', /^1:17 .*stands in the attribute srcdoc, whose value is a page of HTML/],
    ['<meta http-equiv="refresh" content="0;url={{motd}}">', /URL of the attribute content can still choose its scheme/],
    ['<meta http-equiv="refresh" content="0; URL=\'{{motd}}">', /URL of the attribute content can still choose its scheme/],
    // `/{{x}}` with x = `/evil.example/` is another site's URL; browsers read a backslash as a slash there.
    ['<a href="/{{motd}}">x</a>', /^1:11 .*stands right after the \/ that starts the URL of the attribute href.*\/\/host, a URL of another site/],
    ['<script src=" /{{motd}}"></script>', /stands right after the \/ that starts the URL of the attribute src/],
    ['<img srcset="/a.png 1x, /{{motd}} 2x">', /stands right after the \/ that starts the URL of the attribute srcset/],
    ['<a href={{motd}}>x</a>', /^1:9 .*stands in the unquoted value of the attribute href/],
    ['<p {{motd}}>x</p>', /^1:4 .*stands inside the tag <p> but not in a quoted attribute value/],
    ['{{#if motd}}<p title="{{/if}}{{motd}}">', /^1:1 the text of this \{\{#if\}\} block opens a tag/],
  ])('%j is refused at the value', (text, message) => {
    const found = html(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });
});
