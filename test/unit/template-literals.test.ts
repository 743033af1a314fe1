import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/config/inventory.js';
import { compile } from '../../src/config/compile.js';
import { renderString } from '../../src/config/render.js';

// A handlebars literal is a value, not a name: handlebars itself reads a mustache that is only a
// literal as a helper or field named "true" or "5", which strict rendering said was "variable
// true is not set; set it in the inventory".

const root = mkdtempSync(join(tmpdir(), 'lvsprov-literals-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('literals in task values', () => {
  it('a value that is one literal alone keeps its type, as one variable alone does', () => {
    expect(renderString('{{true}}', {})).toBe(true);
    expect(renderString('{{ false }}', {})).toBe(false);
    expect(renderString('{{5}}', {})).toBe(5);
    expect(renderString('{{-1.5}}', {})).toBe(-1.5);
    expect(renderString('{{"web"}}', {})).toBe('web');
  });

  it('a literal among text, or inside a block, prints its value', () => {
    expect(renderString('a {{true}} {{false}} {{5}} {{"x"}}', {})).toBe('a true false 5 x');
    expect(renderString('{{#if on}}{{1}}{{else}}{{0}}{{/if}}', { on: false })).toBe('0');
    expect(renderString('{{#each xs}}{{this}}={{true}};{{/each}}', { xs: ['a', 'b'] })).toBe('a=true;b=true;');
  });

  it('a variable that is not set is still refused, a literal beside it or not', () => {
    expect(() => renderString('{{true}} {{nope}}', {})).toThrow(/variable nope is not set/);
  });

  it('compiles tasks of a role and of a playbook whose values are literals', () => {
    mkdirSync(join(root, 'roles/r'), { recursive: true });
    writeFileSync(join(root, 'inventory.yaml'), 'name: t\nhosts:\n  web1: { address: 192.0.2.21, groups: [web], vars: {} }\n');
    writeFileSync(join(root, 'roles/r/tasks.yaml'), '- name: forward\n  sysctl: { name: net.ipv4.ip_forward, value: "{{1}}" }\n  when: "{{true}}"\n- name: never\n  kmod: { name: ipip }\n  when: "{{false}}"\n');
    writeFileSync(join(root, 'playbook.yaml'), '- hosts: web\n  roles: [r]\n  tasks:\n    - name: page\n      file: { path: /srv/www/on.txt, content: "on={{true}} n={{5}}\\n" }\n');
    const run = compile(loadInventory(join(root, 'inventory.yaml')), join(root, 'playbook.yaml'));
    expect(run.hosts.get('web1')?.map((task) => task.spec)).toEqual([
      expect.objectContaining({ values: { 'net.ipv4.ip_forward': '1' } }),
      expect.objectContaining({ path: '/srv/www/on.txt', content: 'on=true n=5\n' }),
    ]);
  });
});
