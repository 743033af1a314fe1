import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { labSh } from '../support/lab-sh.js';

// The boot hook that brings a TUN real server's ARP suppression back after a reboot, on a host
// booted by sysvinit (a namespace host with its own filesystem and real sshd): apply writes the
// rules, the save file and an LSB init script linked into rcS.d; a second apply changes nothing;
// flushing the rules and running what boot runs (every S link of rcS.d, in order) restores them
// byte for byte; reset removes the hook and the rules. Read back through nsenter, not lvsprov.

const availability = labAvailability();
const VIP = '198.51.100.60';
const RIP = '192.0.2.21';

describe.skipIf(skipLabSuite(availability))(`at_boot on a sysvinit host (${availability.reason})`, () => {
  let lab: Lab;
  let dir = '';
  let inventory = '';
  let playbook = '';

  const sh = (script: string): Promise<string> => labSh(lab, 'rs', script);
  const lvsprov = (command: 'apply' | 'reset', ...args: string[]) =>
    runCli([command, '-i', inventory, '-p', playbook, '--json', ...args], { namespace: lab.controlNamespace });
  const summaries = (result: Awaited<ReturnType<typeof lvsprov>>): string[] => {
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    return parseJson(result).hosts.flatMap((host) => host.changes.map((change) => change.summary));
  };
  /** What sysvinit does at boot for the rcS runlevel: each S link, in name order, with `start`. */
  const bootRcS = (): Promise<string> => sh('for link in /etc/rcS.d/S*; do case "$link" in *lvsprov-*) "$link" start ;; esac; done');

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-atboot-'));
    lab = await createLab(
      { name: 'itboot', subnets: [{ name: 'lan', cidr: '192.0.2.0/24', controlAddress: '192.0.2.254' }], hosts: [{ name: 'rs', interfaces: [{ subnet: 'lan', address: RIP }] }] },
      join(dir, 'lab'),
    );
    inventory = join(dir, 'inventory.yaml');
    writeFileSync(
      inventory,
      stringify({
        name: 'it-boot',
        ssh: { user: 'root', private_key: lab.clientKeyPath, known_hosts: lab.knownHostsPath, agent: false, connect_timeout: 10 },
        hosts: { rs: { address: RIP } },
      }),
    );
    // The two tasks of roles/realserver-tun that persist its ARP suppression, as the role writes them.
    playbook = join(dir, 'playbook.yaml');
    writeFileSync(
      playbook,
      stringify([
        {
          name: 'arp suppression that survives a reboot',
          hosts: 'all',
          tasks: [
            {
              name: 'ARP suppression',
              arptables: {
                rules: [
                  { chain: 'INPUT', destination: VIP, target: 'DROP' },
                  { chain: 'OUTPUT', source: VIP, target: 'mangle', mangle_source: RIP },
                ],
              },
            },
            {
              name: 'restore the arptables rules at boot',
              at_boot: { name: 'lvsprov-arptables', description: 'lvsprov: ARP suppression for LVS VIPs', command: ['/usr/sbin/arptables-restore'], input: '/etc/arptables.rules' },
            },
          ],
        },
      ]),
    );
  });

  afterAll(async () => {
    const report = await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('apply installs the rules, their save file and an init script linked into rcS.d', async () => {
    expect(await sh('ls /etc/init.d/lvsprov-arptables /etc/rcS.d/*lvsprov* 2>&1 || true')).toMatch(/No such file/);
    expect(summaries(await lvsprov('apply'))).toEqual([
      `append INPUT -d ${VIP} -j DROP`,
      `append OUTPUT -s ${VIP} -j mangle --mangle-ip-s ${RIP}`,
      'create /etc/arptables.rules',
      'create /etc/init.d/lvsprov-arptables',
      'run lvsprov-arptables at boot',
    ]);
    expect(await sh('stat -c %a /etc/init.d/lvsprov-arptables')).toBe('755\n');
    expect(await sh('readlink /etc/rcS.d/S*lvsprov-arptables')).toBe('../init.d/lvsprov-arptables\n');
    expect(await sh('arptables-save')).toContain(`-A OUTPUT -j mangle -s ${VIP} --mangle-ip-s ${RIP}`);
  });

  it('a second apply changes nothing', async () => {
    expect(summaries(await lvsprov('apply'))).toEqual([]);
  });

  it('after the rules are lost (as at a reboot), what boot runs restores them identically', async () => {
    const before = await sh('arptables-save');
    expect(await sh('arptables -F && arptables-save')).not.toContain(VIP);
    await bootRcS();
    expect(await sh('arptables-save')).toBe(before);
    expect(summaries(await lvsprov('apply'))).toEqual([]);
  });

  it('a hook whose save file is gone does nothing at boot and still succeeds', async () => {
    await sh('mv /etc/arptables.rules /etc/arptables.rules.kept && arptables -F');
    await bootRcS();
    expect(await sh('arptables-save')).not.toContain(VIP);
    await sh('mv /etc/arptables.rules.kept /etc/arptables.rules');
    await bootRcS();
    expect(await sh('arptables-save')).toContain(VIP);
  });

  it('reset removes the hook, its link and the rules (last task first); a second reset changes nothing', async () => {
    expect(summaries(await lvsprov('reset'))).toEqual([
      'stop running lvsprov-arptables at boot',
      'remove /etc/init.d/lvsprov-arptables',
      `delete INPUT -d ${VIP} -j DROP`,
      `delete OUTPUT -s ${VIP} -j mangle --mangle-ip-s ${RIP}`,
      'remove /etc/arptables.rules',
    ]);
    expect(await sh('ls /etc/init.d/lvsprov-arptables /etc/rcS.d/*lvsprov* 2>&1 || true')).toMatch(/No such file/);
    expect(await sh('arptables-save')).not.toContain(VIP);
    expect(summaries(await lvsprov('reset'))).toEqual([]);
  });
});
