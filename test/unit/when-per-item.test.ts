import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/config/inventory.js';
import { compile } from '../../src/config/compile.js';

// A looped task's `when` may read the item (the role check lets it): it is asked of each item. It
// was asked once before the loop, where item is not set, and said "variable item is not set; set
// it in the inventory".

const root = mkdtempSync(join(tmpdir(), 'lvsprov-when-item-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('when with loop', () => {
  it("keeps the items whose when holds, in a role's task and in a playbook's own", () => {
    mkdirSync(join(root, 'roles/r'), { recursive: true });
    writeFileSync(join(root, 'inventory.yaml'), 'name: t\nvars: { sites: [{ name: a, on: true }, { name: b, on: false }, { name: c, on: true }] }\nhosts:\n  web1: { address: 192.0.2.21, groups: [web], vars: {} }\n');
    writeFileSync(
      join(root, 'roles/r/role.yaml'),
      'variables:\n  sites: { type: list, items: { type: object, fields: { name: { type: string }, on: { type: boolean } } } }\n',
    );
    writeFileSync(join(root, 'roles/r/tasks.yaml'), '- name: "site {{ item.name }}"\n  file: { path: "/etc/{{ item.name }}", content: y }\n  loop: sites\n  when: item.on\n');
    writeFileSync(join(root, 'playbook.yaml'), '- hosts: web\n  roles: [r]\n  tasks:\n    - name: "own {{ item.name }}"\n      file: { path: "/srv/{{ item.name }}", content: y }\n      loop: sites\n      when: "{{ item.on }}"\n');
    const run = compile(loadInventory(join(root, 'inventory.yaml')), join(root, 'playbook.yaml'));
    expect(run.hosts.get('web1')?.map((task) => (task.spec as { path: string }).path)).toEqual(['/etc/a', '/etc/c', '/srv/a', '/srv/c']);
  });
});
