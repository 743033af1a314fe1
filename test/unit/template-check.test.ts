import { describe, expect, it } from 'vitest';
import { checkTemplate, type Vocabulary } from '../../src/config/template-check.js';
import { parseTemplate } from '../../src/config/template-render.js';
import type { VariableType } from '../../src/config/variable-types.js';

// What a role's template may read, checked when the role loads. Block parameters
// (`{{#each xs as |x i|}}`, `{{#with x as |y|}}`) are names like any other: a field their value
// does not have is an error at the place that reads it.

const vip: VariableType = { type: 'object', fields: { address: { type: 'ipv4' }, label: { type: 'label' } } };
const vocabulary: Vocabulary = {
  root: { type: 'object', fields: { vips: { type: 'list', items: vip }, first: vip, motd: { type: 'string' } } },
  unknownHint: () => 'declare it',
};
const problems = (text: string) => checkTemplate(parseTemplate(text), vocabulary).map(({ line, col, message }) => `${line}:${col} ${message}`);

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
