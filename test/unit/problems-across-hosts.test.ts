import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/config/inventory.js';
import { compile } from '../../src/config/compile.js';
import { sayHosts } from '../../src/config/host-problems.js';
import { problemsOf } from '../support/config-problems.js';

// A mistake in a role applied to many hosts is found once per host; it is said once, at its line,
// with how many hosts it concerns and the first few of them.

const root = mkdtempSync(join(tmpdir(), 'lvsprov-across-hosts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let cases = 0;
/** A playbook applying one role `r` (tasks, role.yaml) to `count` hosts web1..N, `vars` given to each. */
function setup(count: number, tasks: string, role = '', vars: (n: number) => string = () => '{}', clusterVars = ''): { inventory: string; playbook: string; tasks: string } {
  const dir = join(root, String((cases += 1)));
  mkdirSync(join(dir, 'roles/r'), { recursive: true });
  const hosts = Array.from({ length: count }, (_, i) => `  web${i + 1}: { address: 198.18.${Math.floor((i + 1) / 250)}.${((i + 1) % 250) + 1}, groups: [web], vars: ${vars(i + 1)} }`);
  writeFileSync(join(dir, 'inventory.yaml'), `name: across\n${clusterVars}hosts:\n${hosts.join('\n')}\n`);
  writeFileSync(join(dir, 'playbook.yaml'), '- hosts: web\n  roles: [r]\n');
  writeFileSync(join(dir, 'roles/r/tasks.yaml'), tasks);
  if (role !== '') writeFileSync(join(dir, 'roles/r/role.yaml'), role);
  return { inventory: join(dir, 'inventory.yaml'), playbook: join(dir, 'playbook.yaml'), tasks: join(dir, 'roles/r/tasks.yaml') };
}

const problems = (files: { inventory: string; playbook: string }): string[] => problemsOf(() => compile(loadInventory(files.inventory), files.playbook));

const SERVICE_TWICE = '- name: up\n  service: { name: nginx }\n- name: down\n  service: { name: nginx, state: stopped }\n';

describe('a problem of a role applied to many hosts is said once', () => {
  it('two tasks of one service on 500 hosts: one error at the second task, counting the hosts and naming three', () => {
    const files = setup(500, SERVICE_TWICE);
    expect(problems(files)).toEqual([
      `${files.tasks}:3:3: 1: task "down" declares service nginx otherwise than the task at ${files.tasks}:1:3: the two would undo each other at every apply; declare it once (500 hosts: web1, web2, web3 and 497 more)`,
    ]);
  });

  it('a task that fails its schema on 500 hosts: one error at the value', () => {
    const files = setup(500, '- name: motd\n  file: { path: etc/motd, content: "hi" }\n');
    const found = problems(files);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${files.tasks}:2:17: .*must be an absolute path.*\\(500 hosts: web1, web2, web3 and 497 more\\)$`));
  });

  it('a variable a role requires and no host sets: one error at the role, counting the hosts', () => {
    const files = setup(40, '- name: motd\n  file: { path: /etc/motd, content: "{{ banner }}" }\n', 'variables:\n  banner: { type: string, description: the motd }\n');
    const found = problems(files);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('role r needs variable banner on 40 hosts: web1, web2, web3 and 37 more; set it in the inventory');
  });

  it('a value set wrong once for 300 hosts: one error at the line that set it', () => {
    const role = 'variables:\n  mtu: { type: string, description: the MTU }\n';
    const tasks = '- name: mtu\n  link: { device: eth0, mtu: "{{ mtu }}" }\n';
    const shared = setup(300, tasks, role, () => '{}', 'vars: { mtu: big }\n');
    const found = problems(shared);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^.*inventory\.yaml:2:\d+: vars\.mtu: expected an integer .*\(read by 0\.link\.mtu at .*tasks\.yaml:2:\d+, 300 hosts: web1, web2, web3 and 297 more\)$/);
  });

  it('a conflict only some hosts have names just those', () => {
    const files = setup(6, '- name: up\n  service: { name: nginx }\n- name: maybe down\n  service: { name: nginx, state: "{{ nginx_state }}" }\n', 'variables:\n  nginx_state: { type: string, description: started or stopped }\n', (n) => `{ nginx_state: ${n <= 2 ? 'stopped' : 'started'} }`);
    const found = problems(files);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/declare it once \(hosts web1 and web2\)$/);
  });

  it('says one host, two or three by name, and more by count', () => {
    expect(sayHosts(['a'])).toBe('host a');
    expect(sayHosts(['a', 'b'])).toBe('hosts a and b');
    expect(sayHosts(['a', 'b', 'c'])).toBe('hosts a, b and c');
    expect(sayHosts(['a', 'b', 'c', 'd'])).toBe('4 hosts: a, b, c and 1 more');
  });
});
