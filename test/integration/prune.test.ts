import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { labSh } from '../support/lab-sh.js';

// Ownership on real hosts (namespace hosts with their own filesystem and real sshd, sysvinit boot
// hooks): apply records what it made; an inventory that drops a VIP from rs1 and every VIP from
// rs2 makes --check show each removal and apply remove exactly those (the VIP, its arptables rule,
// its boot line or the whole boot hook, the page, the sysctl back to its original), while an
// administrator's address, arptables rule and file beside them stay. Read back through nsenter.

const availability = labAvailability();
const RS1 = '192.0.2.41';
const RS2 = '192.0.2.42';
const VIP1 = '198.51.100.50';
const VIP2 = '198.51.100.51';
const ADMIN_VIP = '198.51.100.99';

describe.skipIf(skipLabSuite(availability))(`pruning what lvsprov made (${availability.reason})`, () => {
  let lab: Lab;
  let dir = '';
  let playbook = '';
  const sh = (host: string, script: string): Promise<string> => labSh(lab, host, script);
  const inventory = (vips: { rs1: string[]; rs2: string[] }): string => {
    const path = join(dir, `inventory-${vips.rs1.length}-${vips.rs2.length}.yaml`);
    writeFileSync(
      path,
      stringify({
        name: 'it-prune',
        ssh: { user: 'root', private_key: lab.clientKeyPath, known_hosts: lab.knownHostsPath, agent: false, connect_timeout: 10 },
        hosts: { rs1: { address: RS1, vars: { test_vips: vips.rs1 } }, rs2: { address: RS2, vars: { test_vips: vips.rs2 } } },
      }),
    );
    return path;
  };
  /** Execs per host of the last run (each host always has exactly one connection). */
  let stats: Record<string, number> = {};
  let before = '';
  let after = '';
  const lvsprov = (command: 'apply' | 'reset', inv: string, ...args: string[]) =>
    runCli([command, '-i', inv, '-p', playbook, '--json', ...(command === 'reset' ? ['--yes'] : []), ...args], { namespace: lab.controlNamespace });
  const summaries = async (command: 'apply' | 'reset', inv: string, ...args: string[]): Promise<Record<string, string[]>> => {
    const result = await lvsprov(command, inv, ...args);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const hosts = parseJson(result).hosts;
    stats = Object.fromEntries(hosts.map((host) => [host.host, host.stats.execs]));
    return Object.fromEntries(hosts.map((host) => [host.host, host.changes.map((change) => change.summary)]));
  };
  /** Everything the test cares about on a host, as the kernel and the file system say it. */
  const state = (host: string): Promise<string> =>
    sh(
      host,
      'ip -o -4 addr show dev lo | sed "s/ *valid_lft.*//"; arptables-save | grep -- "-d "; sysctl net.ipv4.conf.all.arp_ignore; ' +
        'ls /etc/lvsprov /etc/lvsprov-test /etc/init.d 2>/dev/null | grep -v "^$"; cat /etc/lvsprov/playbook.ip 2>/dev/null; ls /etc/rc2.d | grep lvsprov- || true',
    );

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-prune-'));
    lab = await createLab(
      {
        name: 'itprune',
        subnets: [{ name: 'lan', cidr: '192.0.2.0/24', controlAddress: '192.0.2.254' }],
        hosts: [
          { name: 'rs1', interfaces: [{ subnet: 'lan', address: RS1 }] },
          { name: 'rs2', interfaces: [{ subnet: 'lan', address: RS2 }] },
        ],
      },
      join(dir, 'lab'),
    );
    before = inventory({ rs1: [VIP1, VIP2], rs2: [VIP1] });
    after = inventory({ rs1: [VIP1], rs2: [] });
    playbook = join(dir, 'playbook.yaml');
    writeFileSync(
      playbook,
      stringify([
        {
          name: 'a DR real server, by hand',
          hosts: 'all',
          tasks: [
            { name: 'ARP suppression', when: 'test_vips', sysctl: { file: '/etc/sysctl.d/90-lvsprov-test.conf', values: { 'net.ipv4.conf.all.arp_ignore': 1 } } },
            { name: 'VIP {{item}} on lo', loop: 'test_vips', address: { address: '{{item}}', prefix: 32, device: 'lo', label: 'lo:{{loop_index}}', at_boot: true } },
            { name: 'no ARP for {{item}}', loop: 'test_vips', arptables: { rules: [{ chain: 'INPUT', destination: '{{item}}', target: 'DROP' }] } },
            { name: 'a page', when: 'test_vips', file: { path: '/etc/lvsprov-test/page.html', content: 'served\n' } },
          ],
        },
      ]),
    );
    // An administrator's own objects beside lvsprov's, on both hosts.
    for (const host of ['rs1', 'rs2']) {
      await sh(host, `ip addr add ${ADMIN_VIP}/32 dev lo label lo:9 && arptables -A INPUT -d ${ADMIN_VIP} -j DROP && mkdir -p /etc/lvsprov-test && echo mine > /etc/lvsprov-test/admin.txt`);
    }
  });

  afterAll(async () => {
    const report = await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('apply makes and records; a second apply changes nothing', async () => {
    const first = await summaries('apply', before);
    expect(first.rs1).toContain(`address ${VIP2} on lo: (absent) -> ${VIP2}/32 label lo:2`);
    // The first line ends with the sum of the object lines (what a converged host's read compares).
    expect((await sh('rs1', 'cut -f1,2 /var/lib/lvsprov/owned; stat -c %a /var/lib/lvsprov/owned')).replace(/ sum=[0-9a-f]{32}\n/, ' sum=SUM\n')).toBe(
      [
        '# lvsprov ownership manifest 1: what lvsprov made on this host (type, id, spec, probe). Written by lvsprov; do not edit. sum=SUM',
        'sysctl\tsysctl net.ipv4.conf.all.arp_ignore',
        'file\tfile /etc/sysctl.d/90-lvsprov-test.conf',
        `address\taddress ${VIP1} on lo`,
        `address\taddress ${VIP2} on lo`,
        'file\tfile /etc/lvsprov/playbook.ip',
        'at_boot\tat_boot lvsprov-playbook',
        `arptables\tarptables /etc/arptables.rules INPUT DROP s= d=${VIP1} m=`,
        `arptables\tarptables /etc/arptables.rules INPUT DROP s= d=${VIP2} m=`,
        'file\tfile /etc/lvsprov-test/page.html',
        '600',
        '',
      ].join('\n'),
    );
    expect(await summaries('apply', before)).toEqual({ rs1: [], rs2: [] });
    // An unchanged host: one read exec, the manifest read within it.
    expect(stats).toEqual({ rs1: 1, rs2: 1 });
  });

  it('--check on the smaller inventory shows each removal and touches nothing', async () => {
    const states = [await state('rs1'), await state('rs2')];
    const check = await summaries('apply', after, '--check');
    expect(stats).toEqual({ rs1: 1, rs2: 1 });
    // Each VIP leaves before its ARP rule and everything else that guards it.
    expect(check.rs1).toEqual([
      'update /etc/lvsprov/playbook.ip',
      `address ${VIP2} on lo: ${VIP2}/32 label lo:2 -> (absent)`,
      `delete INPUT -d ${VIP2} -j DROP`,
      'update /etc/arptables.rules',
    ]);
    expect(check.rs2).toEqual([
      `address ${VIP1} on lo: ${VIP1}/32 label lo:1 -> (absent)`,
      'remove /etc/lvsprov-test/page.html',
      `delete INPUT -d ${VIP1} -j DROP`,
      'update /etc/arptables.rules',
      'stop running lvsprov-playbook at boot',
      'remove /etc/init.d/lvsprov-playbook',
      'remove /etc/lvsprov/playbook.ip',
      'remove /etc/sysctl.d/90-lvsprov-test.conf',
      'restore net.ipv4.conf.all.arp_ignore 1 -> 0',
      'forget 1 recorded original in /var/lib/lvsprov/sysctl-originals',
    ]);
    expect([await state('rs1'), await state('rs2')]).toEqual(states);
  });

  it('apply removes exactly those, in one exec per wave a host takes part in; the administrator\'s objects stay; a re-run changes nothing', async () => {
    await summaries('apply', after);
    // One exec per wave a host takes part in, the manifest riding on them: rs1 rewrites its boot
    // file (prepare) before its VIP goes (retire); rs2 only retires.
    expect(stats).toEqual({ rs1: 3, rs2: 2 });
    const rs1 = await state('rs1');
    expect(rs1).toContain(`inet ${VIP1}/32 scope global lo:1`);
    expect(rs1).not.toContain(VIP2);
    expect(rs1).toContain(`address replace ${VIP1}/32 dev lo label lo:1`);
    const rs2 = await state('rs2');
    for (const gone of [VIP1, 'lvsprov-playbook', 'playbook.ip', 'page.html']) expect(rs2).not.toContain(gone);
    expect(rs2).toContain('net.ipv4.conf.all.arp_ignore = 0');
    for (const host of ['rs1', 'rs2']) {
      const left = await state(host);
      expect(left).toContain(`inet ${ADMIN_VIP}/32 scope global lo:9`);
      expect(left).toContain(`-d ${ADMIN_VIP}`);
      expect(left).toContain('admin.txt');
    }
    // rs2 owns nothing any more: its manifest is gone, and lvsprov's directory with it.
    expect(await sh('rs2', 'ls /var/lib/lvsprov 2>&1 || true')).toMatch(/No such file/);
    expect(await summaries('apply', after)).toEqual({ rs1: [], rs2: [] });
    expect(stats).toEqual({ rs1: 1, rs2: 1 });
  });

  it('reset removes everything lvsprov made and nothing else; a second reset changes nothing', async () => {
    const reset = await summaries('reset', after);
    expect(reset.rs1).toContain(`address ${VIP1} on lo: ${VIP1}/32 label lo:1 -> (absent)`);
    expect(reset.rs2).toEqual([]);
    for (const host of ['rs1', 'rs2']) {
      const left = await state(host);
      expect(left).not.toMatch(new RegExp(`${VIP1}|${VIP2}|lvsprov-playbook|page\\.html`));
      expect(left).toContain(`inet ${ADMIN_VIP}/32 scope global lo:9`);
      expect(left).toContain(`-d ${ADMIN_VIP}`);
      expect(left).toContain('net.ipv4.conf.all.arp_ignore = 0');
      expect(await sh(host, 'ls /var/lib/lvsprov 2>&1 || true')).toMatch(/No such file|^$/);
    }
    expect(await summaries('reset', after)).toEqual({ rs1: [], rs2: [] });
  });
});
