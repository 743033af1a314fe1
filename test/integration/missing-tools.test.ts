import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { runCli } from '../support/cli.js';
import { drInventory, drLabSpec, writeInventory } from '../support/dr-lab.js';

// A host without a program lvsprov needs stops with the Debian package to install, and the other
// hosts go on: a director without ipvsadm is never read as an empty IPVS table. Each lab host's
// root is an overlay of this machine's, so a program deleted there is gone for that host alone.

const availability = labAvailability();

describe.skipIf(skipLabSuite(availability))(`missing programs on real sshd hosts (${availability.reason})`, () => {
  let lab: Lab;
  let dir: string;
  let inventory: string;

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-missing-tools-'));
    const spec = drLabSpec('itmt');
    lab = await createLab({ ...spec, hosts: [...spec.hosts, { name: 'director', interfaces: [{ subnet: 'lan', address: '192.0.2.10' }] }] }, join(dir, 'lab'));
    inventory = writeInventory(dir, 'inventory.yaml', drInventory(lab));
  }, 180_000);

  afterAll(async () => {
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  const hide = async (host: string, program: string): Promise<void> => {
    // Every copy on the PATH lvsprov's scripts use (/sbin and /usr/sbin may both hold one).
    const script = `export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; while found=$(command -v ${program}); do rm -f "$found" || exit 1; done`;
    const removed = await lab.exec(host, ['sh', '-c', script]);
    expect(removed.code, `${program} hidden on ${host}: ${removed.stderr}`).toBe(0);
  };

  it('names the package of ipvsadm on the director and of ip on the router; the real servers are planned', async () => {
    await hide('director', 'ipvsadm');
    await hide('router', 'ip');
    const result = await runCli(['apply', '-i', inventory, '--check'], { namespace: lab.controlNamespace });
    expect(result.code, result.stdout + result.stderr).toBe(2);
    expect(result.stdout).toMatch(/^director: failed: .*ipvsadm is not installed \(Debian package: ipvsadm\)$/m);
    expect(result.stdout).toMatch(/^router: failed: .*ip is not installed \(Debian package: iproute2\)$/m);
    expect(result.stdout).not.toMatch(/^rs[12]: failed/m);
    expect(result.stdout).toMatch(/^rs1 +: would change /m);
    // --check touched nothing, and the programs stay missing only where they were removed.
    expect((await lab.exec('rs1', ['sh', '-c', 'command -v ipvsadm && command -v ip'])).code).toBe(0);
  }, 180_000);
});
