import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lvsprovInventory, writeYaml } from '../../bench/src/inventories.js';
import { lvsprovPlaybook } from '../../bench/src/lvsprov-contender.js';
import { resetHosts } from '../../bench/src/reset.js';
import { createLab, flatLabSpec, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { labSh } from '../support/lab-sh.js';

// The bench measures "first apply" after resetting its hosts: the reset must leave a host as it
// was before lvsprov touched it, or every rep after the first measures a smaller job than a
// first apply is. Compared on real lab hosts, read through nsenter.

const availability = labAvailability();

describe.skipIf(skipLabSuite(availability))(`the bench's reset (${availability.reason})`, () => {
  let lab: Lab;
  let dir: string;
  let inventory: string;

  /** Everything the bench playbook touches on a host, and the places lvsprov keeps its own state. */
  const snapshot = (host: string): Promise<string> =>
    labSh(
      lab,
      host,
      'ip -o -4 addr show dev lo; sysctl net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce net.ipv4.conf.lo.arp_ignore net.ipv4.conf.lo.arp_announce; ' +
        'ls -A /etc/sysctl.d /etc/init.d; ls -d /var/www /etc/rc?.d/* /etc/lvsprov /var/lib/lvsprov /run/lvsprov /var/www/lvsprov 2>&1; ' +
        'ls /run/lvsprov-lvsprov-web.pid 2>&1; true',
    );
  const apply = async (): Promise<Array<[string, string, string[]]>> => {
    const json = parseJson(await runCli(['apply', '-i', inventory, '-p', lvsprovPlaybook, '--json'], { namespace: lab.controlNamespace }));
    return json.hosts.map((host) => [host.host, host.status, host.changes.map((change) => change.summary)]);
  };

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-bench-reset-'));
    lab = await createLab(flatLabSpec('itbr', 2), join(dir, 'lab'));
    inventory = await writeYaml(dir, 'inventory.yaml', lvsprovInventory(lab));
  });

  afterAll(async () => {
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('leaves the hosts as they were before the first apply, which the next apply then repeats change for change', async () => {
    const fresh = await Promise.all(lab.hosts.map((host) => snapshot(host.name)));
    const first = await apply();
    expect(first.map(([, status]) => status)).toEqual(['changed', 'changed']);
    // The boot hook's init script is among what the first apply made: the reset must take it too.
    expect(first[0]?.[2]).toContain('create /etc/init.d/lvsprov-realserver-dr');
    expect(await snapshot('h1')).not.toBe(fresh[0]);

    await resetHosts(lab);
    expect(await Promise.all(lab.hosts.map((host) => snapshot(host.name)))).toEqual(fresh);
    expect(await apply()).toEqual(first);
  });
});
