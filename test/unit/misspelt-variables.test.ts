import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/config/compile.js';
import { loadInventory } from '../../src/config/inventory.js';

// An inventory variable a letter away from one a role of the playbook reads is a warning at its
// key, with the name meant; other undeclared names (a playbook's own tasks may read them) are not.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-misspelt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const site = join(import.meta.dirname, '../../playbooks/site.yaml');

describe('misspelt inventory variables', () => {
  const file = join(dir, 'inventory.yaml');
  writeFileSync(
    file,
    [
      'vars:',
      '  web_prot: 8080',
      '  motd: hello',
      'groups:',
      '  directors: { hosts: [director], vars: { vip_interfce: eth1 } }',
      'hosts:',
      '  director: { address: 192.0.2.10 }',
      '  rs1: { address: 192.0.2.11, groups: [realservers], vars: { webroot: /srv/www } }',
      'lvs:',
      '  vips: { web: { address: 198.51.100.50 } }',
      '  services:',
      '    - { vip: web, port: 80, real_servers: [{ host: rs1 }] }',
      '',
    ].join('\n'),
  );
  const warnings = compile(loadInventory(file), site).warnings.filter((warning) => warning.includes('read by no role'));

  it('says each at its key, at every level, with the variable meant', () => {
    expect(warnings).toEqual([
      `${file}:2:3: vars.web_prot: variable web_prot is read by no role of the playbook: did you mean web_port?`,
      `${file}:5:43: groups.directors.vars.vip_interfce: variable vip_interfce is read by no role of the playbook: did you mean vip_interface?`,
      `${file}:8:62: hosts.rs1.vars.webroot: variable webroot is read by no role of the playbook: did you mean web_root?`,
    ]);
  });

  it('leaves a name alone that no role reads and none is close to, or that the playbook reads', () => {
    const playbook = join(dir, 'playbook.yaml');
    writeFileSync(playbook, ['- hosts: realservers', '  tasks:', '    - file: { path: "/etc/lvsprov-{{web_prot}}", content: x }', ''].join('\n'));
    expect(compile(loadInventory(file), playbook).warnings.filter((warning) => warning.includes('web_prot') || warning.includes('motd'))).toEqual([]);
  });
});
