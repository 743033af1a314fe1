import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { labSh } from '../support/lab-sh.js';

// A write that fails on a real host (a full disk: a 64 KiB tmpfs inside a namespace host with real
// sshd) fails the host with the command's message, keeps the old file as it was, and leaves no
// temp file beside it. Read back through nsenter, not lvsprov.

const availability = labAvailability();
const HOST = '192.0.2.31';

describe.skipIf(skipLabSuite(availability))(`a write on a full disk (${availability.reason})`, () => {
  let lab: Lab;
  let dir = '';
  let inventory = '';
  const sh = (script: string): Promise<string> => labSh(lab, 'rs', script);
  const playbook = (content: string): string => {
    const path = join(dir, 'playbook.yaml');
    writeFileSync(path, stringify([{ name: 'a page', hosts: 'all', tasks: [{ name: 'the page', file: { path: '/srv/full/page.html', content } }] }]));
    return path;
  };

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-fullfs-'));
    lab = await createLab(
      { name: 'itfull', subnets: [{ name: 'lan', cidr: '192.0.2.0/24', controlAddress: '192.0.2.254' }], hosts: [{ name: 'rs', interfaces: [{ subnet: 'lan', address: HOST }] }] },
      join(dir, 'lab'),
    );
    inventory = join(dir, 'inventory.yaml');
    writeFileSync(
      inventory,
      stringify({
        name: 'it-full',
        ssh: { user: 'root', private_key: lab.clientKeyPath, known_hosts: lab.knownHostsPath, agent: false, connect_timeout: 10 },
        hosts: { rs: { address: HOST } },
      }),
    );
    await sh('mkdir -p /srv/full && mount -t tmpfs -o size=64k tmpfs /srv/full && printf old > /srv/full/page.html');
  });

  afterAll(async () => {
    const report = await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('fails the host, keeps the old file and removes its temp file', async () => {
    const run = await runCli(['apply', '-i', inventory, '-p', playbook('x'.repeat(256 * 1024)), '--json'], { namespace: lab.controlNamespace });
    expect(run.code, run.stderr).toBe(2);
    const [host] = parseJson(run).hosts;
    expect(host?.status).toBe('failed');
    // The shell's printf writes the file (no process); dash says only "I/O error", not why.
    expect(host?.error?.output).toMatch(/No space left on device|printf: I\/O error/);
    expect(await sh('ls -A /srv/full')).toBe('page.html\n');
    expect(await sh('cat /srv/full/page.html')).toBe('old');
  });

  it('a write that fits still works afterwards', async () => {
    const run = await runCli(['apply', '-i', inventory, '-p', playbook('new\n'), '--json'], { namespace: lab.controlNamespace });
    expect(run.code, run.stderr).toBe(0);
    expect(await sh('ls -A /srv/full; cat /srv/full/page.html')).toBe('page.html\nnew\n');
  });
});
