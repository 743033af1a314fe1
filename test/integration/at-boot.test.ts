import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { labSh } from '../support/lab-sh.js';

// Boot hooks as the roles install them, on a host booted by sysvinit (a namespace host with its
// own filesystem and real sshd) and on one booted by systemd (the lab's `init: systemd`): a TUN
// real server's ARP suppression (early: rcS.d, or before network-pre.target) and a VIP address fed
// to `ip -batch` (once the network is up: rc2-5.d, or after network-online.target). Apply writes
// the rules, the files and the hooks (LSB init scripts with their links, or enabled oneshot
// units); a second apply changes nothing; losing the state and running what boot runs restores it
// byte for byte; reset removes hooks, files and rules. Read back through nsenter, not lvsprov.

const availability = labAvailability();
const VIP = '198.51.100.60';
const RIP = '192.0.2.21';
const ADDRESSES = `# lvsprov test\naddress replace ${VIP}/32 dev lo label lo:0\n`;

interface Init {
  readonly kind: 'sysvinit' | 'systemd';
  readonly lab: string;
  /** Where a hook named `name` is defined. */
  readonly definition: (name: string) => string;
  /** What boot runs of lvsprov's hooks, in boot's order. */
  readonly boot: string;
  /** Lists what links the hooks into boot: empty once they are gone. */
  readonly links: string;
}

const INITS: readonly Init[] = [
  {
    kind: 'sysvinit',
    lab: 'itboot',
    definition: (name) => `/etc/init.d/${name}`,
    // rcS.d's S links, then runlevel 2's, in name order, with `start`.
    boot: 'for link in /etc/rcS.d/S* /etc/rc2.d/S*; do case "$link" in *lvsprov-*) "$link" start ;; esac; done',
    links: 'ls /etc/init.d /etc/rc*.d | grep lvsprov- || true',
  },
  {
    kind: 'systemd',
    lab: 'itbootsd',
    definition: (name) => `/etc/systemd/system/${name}.service`,
    // The hooks multi-user.target wants, pulled in by a target of the test's as boot's would, in
    // one transaction ordered by their units; the target waits for them (an early hook has no
    // default dependencies, so a target does not wait for it on its own). Stopped first: a
    // oneshot that remains after its exit counts as started.
    boot:
      "printf '%s\\n' '[Unit]' 'Wants=lvsprov-arptables.service lvsprov-test-vip.service' 'After=lvsprov-arptables.service lvsprov-test-vip.service' > /run/systemd/system/lvsprov-test-boot.target && systemctl daemon-reload && systemctl stop lvsprov-arptables.service lvsprov-test-vip.service && systemctl start lvsprov-test-boot.target",
    links: 'ls /etc/systemd/system /etc/systemd/system/multi-user.target.wants | grep lvsprov- || true',
  },
];

describe.skipIf(skipLabSuite(availability)).each(INITS.map((init) => [init.kind, init] as const))(`at_boot on a %s host (${availability.reason})`, (_kind, init) => {
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
  const boot = (): Promise<string> => sh(init.boot);
  const state = (): Promise<string> => sh('arptables-save; ip -o -4 addr show dev lo');

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-atboot-'));
    lab = await createLab(
      {
        name: init.lab,
        subnets: [{ name: 'lan', cidr: '192.0.2.0/24', controlAddress: '192.0.2.254' }],
        hosts: [{ name: 'rs', interfaces: [{ subnet: 'lan', address: RIP }], ...(init.kind === 'systemd' ? { init: 'systemd' as const } : {}) }],
      },
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
              at_boot: { name: 'lvsprov-arptables', description: 'ARP suppression for LVS VIPs', command: ['/usr/sbin/arptables-restore'], input: '/etc/arptables.rules' },
            },
            { name: 'VIP on lo', address: { address: VIP, prefix: 32, device: 'lo', label: 'lo:0' } },
            { name: 'the VIP in a file', file: { path: '/etc/lvsprov/test.ip', content: ADDRESSES } },
            {
              name: 'restore the VIP at boot',
              at_boot: { name: 'lvsprov-test-vip', description: 'the VIP', command: ['/sbin/ip', '-force', '-batch', '-'], input: '/etc/lvsprov/test.ip', stage: 'network' },
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

  it('apply installs the rules, the files and the hooks, each linked into boot where its stage runs', async () => {
    expect(await sh(init.links)).toBe('');
    expect(summaries(await lvsprov('apply'))).toEqual([
      `append INPUT -d ${VIP} -j DROP`,
      `append OUTPUT -s ${VIP} -j mangle --mangle-ip-s ${RIP}`,
      'create /etc/arptables.rules',
      `create ${init.definition('lvsprov-arptables')}`,
      'run lvsprov-arptables at boot',
      `address ${VIP} on lo: (absent) -> ${VIP}/32 label lo:0`,
      'create /etc/lvsprov/test.ip',
      `create ${init.definition('lvsprov-test-vip')}`,
      'run lvsprov-test-vip at boot',
    ]);
    if (init.kind === 'sysvinit') {
      expect(await sh('stat -c %a /etc/init.d/lvsprov-arptables /etc/init.d/lvsprov-test-vip')).toBe('755\n755\n');
      // ls lists rc0.d (no link: nothing to stop) first and rcS.d last.
      expect(await sh('cd /etc && ls rc0.d rc2.d rc3.d rc4.d rc5.d rcS.d | grep lvsprov-')).toMatch(/^(S\d\dlvsprov-test-vip\n){4}S\d\dlvsprov-arptables\n$/);
      expect(await sh('readlink /etc/rcS.d/S*lvsprov-arptables')).toBe('../init.d/lvsprov-arptables\n');
    } else {
      expect(await sh('systemctl is-enabled lvsprov-arptables.service lvsprov-test-vip.service')).toBe('enabled\nenabled\n');
      // systemd reads the units as written: the early one before any interface, the other once the network is online.
      expect(await sh('systemctl show -p Before -p After -p ConditionFileNotEmpty lvsprov-arptables.service')).toMatch(/Before=.*network-pre\.target/);
      expect(await sh('systemctl show -p After lvsprov-test-vip.service')).toContain('network-online.target');
      expect(await sh('systemd-analyze verify /etc/systemd/system/lvsprov-arptables.service /etc/systemd/system/lvsprov-test-vip.service 2>&1 || true')).toBe('');
    }
    expect(await sh('arptables-save')).toContain(`-A OUTPUT -j mangle -s ${VIP} --mangle-ip-s ${RIP}`);
  });

  it('a second apply changes nothing', async () => {
    expect(summaries(await lvsprov('apply'))).toEqual([]);
  });

  it('after the rules and the VIP are lost (as at a reboot), what boot runs restores them identically', async () => {
    const before = await state();
    expect(before).toContain(`inet ${VIP}/32 scope global lo:0`);
    expect(await sh(`arptables -F && ip addr del ${VIP}/32 dev lo && arptables-save; ip -o -4 addr show dev lo`)).not.toContain(VIP);
    await boot();
    expect(await state()).toBe(before);
    expect(summaries(await lvsprov('apply'))).toEqual([]);
  });

  it('a hook whose save file is gone does nothing at boot and still succeeds', async () => {
    await sh('mv /etc/arptables.rules /etc/arptables.rules.kept && arptables -F');
    await boot();
    expect(await sh('arptables-save')).not.toContain(VIP);
    await sh('mv /etc/arptables.rules.kept /etc/arptables.rules');
    await boot();
    expect(await sh('arptables-save')).toContain(VIP);
  });

  it('reset removes the VIP first, then the hook, its link and the rules (what the last task made first); a second reset changes nothing', async () => {
    expect(summaries(await lvsprov('reset', '--yes'))).toEqual([
      `address ${VIP} on lo: ${VIP}/32 label lo:0 -> (absent)`,
      'stop running lvsprov-test-vip at boot',
      `remove ${init.definition('lvsprov-test-vip')}`,
      'remove /etc/lvsprov/test.ip',
      'stop running lvsprov-arptables at boot',
      `remove ${init.definition('lvsprov-arptables')}`,
      `delete OUTPUT -s ${VIP} -j mangle --mangle-ip-s ${RIP}`,
      `delete INPUT -d ${VIP} -j DROP`,
      'remove /etc/arptables.rules',
    ]);
    expect(await sh(init.links)).toBe('');
    if (init.kind === 'systemd') expect(await sh('systemctl show -p LoadState --value lvsprov-arptables.service')).toBe('not-found\n');
    expect(await sh('arptables-save')).not.toContain(VIP);
    expect(summaries(await lvsprov('reset', '--yes'))).toEqual([]);
  });
});
