import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

// A role's files that git cannot hold: a FIFO, which made validate wait for ever for a writer, and
// a device, read until the size limit. Each is refused at the playbook's mention of the role.

const root = mkdtempSync(join(tmpdir(), 'lvsprov-role-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let cases = 0;
function roleWith(place: (roleDir: string) => void, tasks = '- file: { path: /etc/motd, content: hi }\n'): string {
  const dir = join(root, String((cases += 1)));
  const roleDir = join(dir, 'roles/site');
  mkdirSync(join(roleDir, 'templates'), { recursive: true });
  writeFileSync(join(dir, 'inventory.yaml'), 'name: t\nhosts:\n  web1: { address: 192.0.2.21, groups: [web], vars: {} }\n');
  writeFileSync(join(dir, 'playbook.yaml'), '- hosts: web\n  roles: [site]\n');
  writeFileSync(join(roleDir, 'tasks.yaml'), tasks);
  place(roleDir);
  return dir;
}

async function validate(dir: string): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  const code = await main(['node', 'lvsprov', 'validate', '-i', join(dir, 'inventory.yaml'), '-p', join(dir, 'playbook.yaml')], { out: () => undefined, err: (line) => err.push(line), isTTY: false });
  return { code, stderr: err.join('\n') };
}

describe("a role's files are regular files", () => {
  it('a FIFO as role.yaml is refused at the role, without waiting for a writer', async () => {
    const dir = roleWith((roleDir) => execFileSync('mkfifo', [join(roleDir, 'role.yaml')]));
    const { code, stderr } = await validate(dir);
    expect(code).toBe(4);
    expect(stderr).toMatch(new RegExp(`^${join(dir, 'playbook.yaml')}:2:11: .*role site: .*role\\.yaml is not a regular file \\(a pipe, a device or a socket\\)`, 'm'));
  }, 10_000);

  it('a template over 16 MB (a sparse file: 700 MB of NULs read into memory) is refused by its size, before it is read', async () => {
    const dir = roleWith((roleDir) => { writeFileSync(join(roleDir, 'templates/motd.hbs'), ''); truncateSync(join(roleDir, 'templates/motd.hbs'), 700 * 1024 * 1024); }, '- template: { src: motd.hbs, dest: /etc/motd, format: text }\n');
    const { code, stderr } = await validate(dir);
    expect(code).toBe(4);
    expect(stderr).toMatch(/roles\/site\/tasks\.yaml:1:20: 0\.template\.src: template motd\.hbs: .* is larger than 16 MB, the most lvsprov reads from one file of a role/);
  }, 10_000);

  it('a FIFO as a template is refused at the template task', async () => {
    const dir = roleWith((roleDir) => execFileSync('mkfifo', [join(roleDir, 'templates/motd.hbs')]), '- template: { src: motd.hbs, dest: /etc/motd, format: text }\n');
    const { code, stderr } = await validate(dir);
    expect(code).toBe(4);
    expect(stderr).toMatch(/roles\/site\/tasks\.yaml:1:20: 0\.template\.src: template motd\.hbs: .* is not a regular file/);
  }, 10_000);

  it('a link to a device inside the role folder is refused as no regular file', async () => {
    const dir = roleWith((roleDir) => {
      symlinkSync('/dev/zero', join(roleDir, 'zero'));
      symlinkSync('zero', join(roleDir, 'role.yaml'));
    });
    const { code, stderr } = await validate(dir);
    expect(code).toBe(4);
    expect(stderr).toMatch(/role site: .*role\.yaml is not a regular file/);
  });
});
