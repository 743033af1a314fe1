import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadInventory } from '../../src/config/inventory.js';
import { compile } from '../../src/config/compile.js';

// A file task's content that holds `{{` is rendered once per host, for its format: it was rendered
// as a plain task value first, then again as the file, twice the cost on every host of a large
// inventory. Each render hands the template engine the host's variables once (withoutPrototypes),
// which is what is counted here.

const renders = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/config/own.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/config/own.js')>();
  return { ...original, withoutPrototypes: <T>(value: T): T => ((renders.count += 1), original.withoutPrototypes(value)) };
});

const root = mkdtempSync(join(tmpdir(), 'lvsprov-content-once-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function rendersOf(content: string, path = '/etc/app.conf'): { count: number; contents: unknown[] } {
  const hosts = [1, 2, 3].map((n) => `  web${n}: { address: 192.0.2.2${n}, groups: [web], vars: { site: "s${n}" } }`).join('\n');
  writeFileSync(join(root, 'inventory.yaml'), `name: t\nhosts:\n${hosts}\n`);
  writeFileSync(join(root, 'playbook.yaml'), `- hosts: web\n  tasks:\n    - name: conf\n      file: { path: ${path}, content: ${JSON.stringify(content)} }\n`);
  const inventory = loadInventory(join(root, 'inventory.yaml'));
  renders.count = 0;
  const run = compile(inventory, join(root, 'playbook.yaml'));
  return { count: renders.count, contents: [...run.hosts.values()].map((tasks) => (tasks[0]?.spec as { content: string }).content) };
}

describe('file task content', () => {
  it('is rendered once per host, for its format', () => {
    const plain = rendersOf('site=none\n');
    const templated = rendersOf('site={{site}} {{true}}\n');
    expect(templated.contents).toEqual(['site=s1 true\n', 'site=s2 true\n', 'site=s3 true\n']);
    expect(templated.count - plain.count).toBe(3);
  });

  it('a whole-file variable of a text file is still its value', () => {
    expect(rendersOf('{{site}}', '/srv/www/page.txt').contents).toEqual(['s1', 's2', 's3']);
  });

  it('a variable the content misses is still said at the content', () => {
    expect(() => rendersOf('x={{nope}}\n')).toThrow(expect.objectContaining({ problems: [expect.objectContaining({ line: 4, path: '0.tasks.0.file.content', message: expect.stringMatching(/^variable nope is not set/) })] }));
  });
});
