import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/config/inventory.js';
import { compile } from '../../src/config/compile.js';
import { literalType } from '../../src/config/literal-type.js';

// `loop:` with a list written in the task, as Ansible users write it: scalars read as `{{ item }}`,
// mappings as `{{ item.field }}`, items rendered as task values are, in a role's tasks and a
// playbook's own.

const root = mkdtempSync(join(tmpdir(), 'lvsprov-loop-in-place-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a loop over a list written in place', () => {
  it('runs the task once per item, scalars and mappings, with item, item.field and loop_index', () => {
    mkdirSync(join(root, 'roles/r'), { recursive: true });
    writeFileSync(join(root, 'inventory.yaml'), 'name: t\nvars: { site: shop }\nhosts:\n  web1: { address: 192.0.2.21, groups: [web], vars: {} }\n');
    writeFileSync(join(root, 'roles/r/role.yaml'), 'variables:\n  site: { type: string }\n');
    writeFileSync(
      join(root, 'roles/r/tasks.yaml'),
      ['- name: "page {{ item.name }}"', '  loop:', '    - { name: a, on: true }', '    - { name: "{{ site }}", on: true }', '    - { name: c, on: false }', '  when: item.on', '  file: { path: "/srv/{{ item.name }}", content: "{{ loop_index }}\\n" }', ''].join('\n'),
    );
    writeFileSync(join(root, 'playbook.yaml'), '- hosts: web\n  roles: [r]\n  tasks:\n    - name: "own {{ loop_index }}"\n      loop: [x, "two words"]\n      file: { path: "/etc/{{ loop_index }}", content: "{{ item }}\\n" }\n');
    const run = compile(loadInventory(join(root, 'inventory.yaml')), join(root, 'playbook.yaml'));
    const tasks = run.hosts.get('web1')?.map((task) => [task.name, (task.spec as { path: string }).path, (task.spec as { content: string }).content]);
    expect(tasks).toEqual([
      ['page a [1/3]', '/srv/a', '1\n'],
      ['page shop [2/3]', '/srv/shop', '2\n'],
      ['own 1 [1/2]', '/etc/1', 'x\n'],
      // A value, not an expression: "two words" is no helper call.
      ['own 2 [2/2]', '/etc/2', 'two words\n'],
    ]);
  });

  it("types item from the list's values for a role's check: mappings' fields (optional where some lack one), lists, scalars", () => {
    expect(literalType([{ name: 'a', port: 80 }, { name: 'b' }])).toEqual({ type: 'object', fields: { name: { type: 'string' }, port: { type: 'integer', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER } }, optional_fields: ['port'] });
    expect(literalType([true, false])).toEqual({ type: 'boolean' });
    expect(literalType([[1], [2, 3]])).toEqual({ type: 'list', items: { type: 'integer', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER } });
    expect(literalType(['a', 1])).toEqual({ type: 'string' });
  });

  it("refuses Ansible's with_items and loop_control once each, at the keyword, saying what to write instead", () => {
    const dir = join(root, 'ansible');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'inventory.yaml'), 'name: t\nhosts:\n  web1: { address: 192.0.2.21, groups: [web], vars: {} }\n');
    writeFileSync(join(dir, 'playbook.yaml'), '- hosts: web\n  tasks:\n    - kmod: { name: "{{ item }}" }\n      with_items: [ip_vs]\n    - kmod: { name: "{{ item }}" }\n      loop: [ip_vs]\n      loop_control: { loop_var: m }\n');
    let messages: string[] = [];
    try {
      compile(loadInventory(join(dir, 'inventory.yaml')), join(dir, 'playbook.yaml'));
    } catch (error) {
      messages = (error as { problems: Array<{ line: number; message: string }> }).problems.map((problem) => `${problem.line}: ${problem.message}`);
    }
    expect(messages).toEqual([
      "4: with_items is Ansible's older loop: write loop: with the same list (loop does not flatten nested lists)",
      '7: loop_control is not read: the item is always item, its number (from 1) loop_index',
    ]);
  });
});
