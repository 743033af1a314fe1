import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createLab, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson } from '../support/cli.js';
import { vrrpPair, writeKeepalivedPlaybook } from '../support/vrrp-pair.js';

// A director pair as production runs it mid-migration: dir1 boots systemd (its own PID and cgroup
// namespaces, Debian's keepalived.service: Type=notify, --dont-fork, reload by SIGHUP), dir2 the
// sysvinit script. lvsprov drives keepalived through systemctl on dir1 and the init script on dir2;
// VRRP between them decides which one holds the VIP, read back from the kernel through nsenter.

const availability = labAvailability();
const VIP = '198.51.100.60';
const DIRECTORS = ['dir1', 'dir2'] as const;

describe.skipIf(skipLabSuite(availability))(`keepalived on a director that boots systemd (${availability.reason})`, () => {
  let lab: Lab;
  let dir = '';
  let inventory = '';
  let playbook = '';

  const { sh, lvsprov, summaries, holders, heldBy, watch } = vrrpPair(() => lab, () => ({ inventory, playbook }), DIRECTORS, VIP);
  const unit = async (property: string): Promise<string> => (await sh('dir1', `systemctl show -p ${property} --value keepalived`)).trim();
  const writeInventory = (advertInterval: number): void =>
    writeFileSync(
      inventory,
      stringify({
        name: 'it-kasd',
        ssh: { user: 'root', private_key: lab.clientKeyPath, known_hosts: lab.knownHostsPath, agent: false, connect_timeout: 10 },
        groups: { directors: { hosts: [...DIRECTORS] } },
        hosts: { dir1: { address: '192.0.2.10' }, dir2: { address: '192.0.2.20' } },
        lvs: {
          ha: { virtual_router_id: 71, advert_interval: advertInterval, interface: 'eth0', garp: { master_delay: 1, master_repeat: 3 } },
          vips: { web: { address: VIP, interface: 'eth0' } },
          services: [{ vip: 'web', port: 80, real_servers: [{ address: '192.0.2.11' }] }],
        },
      }),
    );

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-kasd-'));
    lab = await createLab(
      {
        name: 'itkasd',
        subnets: [{ name: 'lan', cidr: '192.0.2.0/24', controlAddress: '192.0.2.254' }],
        hosts: [
          { name: 'dir1', init: 'systemd', interfaces: [{ subnet: 'lan', address: '192.0.2.10' }] },
          { name: 'dir2', interfaces: [{ subnet: 'lan', address: '192.0.2.20' }] },
        ],
      },
      join(dir, 'lab'),
    );
    inventory = join(dir, 'inventory.yaml');
    playbook = join(dir, 'playbook.yaml');
    writeInventory(1);
    writeKeepalivedPlaybook(playbook);
  });

  afterAll(async () => {
    // keepalived runs inside the lab hosts' namespaces (dir1's under its systemd): destroying the lab ends it.
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('apply starts keepalived through systemd on dir1 and its init script on dir2; dir1, first of the group, holds the VIP', async () => {
    expect(await sh('dir1', 'cat /proc/1/comm')).toBe('systemd\n');
    expect(await unit('ActiveState')).toBe('inactive');
    // The hosts see the machine's files: Debian's package may have enabled keepalived already.
    const enabledOnDir1 = (await unit('UnitFileState')) === 'enabled';
    const linkedOnDir2 = /^S\d\dkeepalived$/m.test(await sh('dir2', 'ls /etc/rc2.d/'));
    expect(summaries(await lvsprov('apply'))).toEqual([
      ...(enabledOnDir1 ? [] : ['dir1: enable keepalived at boot']),
      'dir1: create /etc/keepalived/keepalived.conf (keepalived -t, then start)',
      'dir1: start keepalived',
      ...(linkedOnDir2 ? [] : ['dir2: enable keepalived at boot']),
      'dir2: create /etc/keepalived/keepalived.conf (keepalived -t, then start)',
      'dir2: start keepalived',
    ]);
    // systemd runs it (Type=notify: active only once keepalived said it is ready), enabled at boot.
    expect(await unit('ActiveState')).toBe('active');
    expect(await unit('UnitFileState')).toBe('enabled');
    const mainPid = await unit('MainPID');
    expect(await sh('dir1', `tr '\\0' ' ' < /proc/${mainPid}/cmdline`)).toMatch(/^\/usr\/sbin\/keepalived --dont-fork/);
    expect(await sh('dir2', 'ls /etc/rc2.d/')).toMatch(/^S\d\dkeepalived$/m);
    const seconds = await heldBy('dir1');
    console.log(`VRRP (systemd and sysvinit): dir1 held the VIP ${seconds.toFixed(1)} s after the apply`);
  });

  it('a second apply changes nothing on either director, in one connection and one exec each: keepalived adds no round trip', async () => {
    const result = await lvsprov('apply');
    expect(summaries(result)).toEqual([]);
    expect(parseJson(result).hosts.map((host) => [host.host, host.stats])).toEqual(DIRECTORS.map((host) => [host, { connections: 1, channels: 1, execs: 1 }]));
    expect(await holders()).toEqual(['dir1']);
  });

  it('a changed config reloads keepalived through systemd (same process, SIGHUP) and the VIP never leaves dir1', async () => {
    const mainPid = await unit('MainPID');
    const stopWatch = await watch('dir1', 'local', `ip route get ${VIP} | grep -q '^local'`);
    writeInventory(2);
    expect(summaries(await lvsprov('apply'))).toEqual(DIRECTORS.map((host) => `${host}: update /etc/keepalived/keepalived.conf (keepalived -t, then reload)`));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const log = await stopWatch();
    console.log(`VRRP (systemd): reload of dir1, the VIP ${log.trim().split('\n').at(-1)} on dir1`);
    // Every 20 ms check found the VIP local.
    expect(log).not.toContain('failed');
    expect(await unit('MainPID')).toBe(mainPid);
    expect(await unit('ActiveState')).toBe('active');
    expect(await sh('dir1', 'grep -c "advert_int 2" /etc/keepalived/keepalived.conf')).toBe('1\n');
    expect(await holders()).toEqual(['dir1']);
    expect(summaries(await lvsprov('apply'))).toEqual([]);
  });

  it('stopped by systemctl, dir1 hands the VIP to dir2; the apply sees it stopped, starts it through systemd, and dir1 takes the VIP back', async () => {
    await sh('dir1', 'systemctl stop keepalived');
    expect(await unit('ActiveState')).toBe('inactive');
    const over = await heldBy('dir2', 6000);
    console.log(`VRRP (systemd): systemctl stop of dir1, dir2 held the VIP after ${over.toFixed(1)} s`);
    expect(summaries(await lvsprov('apply'))).toEqual(['dir1: start keepalived']);
    expect(await unit('ActiveState')).toBe('active');
    await heldBy('dir1', 15_000);
  });

  it('killed with SIGKILL (systemd does not restart it: Debian gives no Restart=), dir2 takes the VIP; the apply starts dir1 again', async () => {
    await sh('dir1', 'systemctl kill -s KILL keepalived');
    // A killed keepalived sends no last advert and leaves the VIP on dir1's eth0 (systemd ends the
    // unit's other processes, not its addresses): dir2 takes it once dir1's adverts stop.
    const start = Date.now();
    while (!(await holders()).includes('dir2')) {
      if (Date.now() - start > 10_000) throw new Error(`dir2 did not take the VIP: held by [${(await holders()).join(', ')}]`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    console.log(`VRRP (systemd): dir1 SIGKILLed, dir2 took the VIP after ${((Date.now() - start) / 1000).toFixed(1)} s`);
    expect(await unit('ActiveState')).not.toBe('active');
    // dir1's new keepalived starts by taking the stale copy off, and adds it back as master: one copy.
    expect(summaries(await lvsprov('apply'))).toEqual(['dir1: start keepalived']);
    await heldBy('dir1', 15_000);
    expect((await sh('dir1', 'ip -o -4 addr show dev eth0')).split(`${VIP}/32`).length - 1).toBe(1);
  });

  it('reset stops keepalived through systemd and the init script, disables it at boot and removes its config; no director holds the VIP', async () => {
    const result = await lvsprov('reset', '--yes');
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const changes = parseJson(result).hosts.flatMap((host) => host.changes.map((change) => `${host.host}: ${change.summary}`));
    for (const host of DIRECTORS) {
      expect(changes, changes.join('\n')).toContain(`${host}: stop keepalived (it removes its VIPs and virtual servers)`);
      expect(changes).toContain(`${host}: disable keepalived at boot`);
      expect(changes).toContain(`${host}: remove /etc/keepalived/keepalived.conf`);
    }
    expect(await unit('ActiveState')).toBe('inactive');
    expect(await unit('UnitFileState')).toBe('disabled');
    expect(await sh('dir2', 'ls /etc/rc2.d/')).not.toMatch(/^S\d\dkeepalived$/m);
    expect(await sh('dir2', 'cat /run/keepalived.pid 2>/dev/null || true')).toBe('');
    expect(await holders()).toEqual([]);
    for (const host of DIRECTORS) expect(await sh(host, '[ -e /etc/keepalived/keepalived.conf ] && echo present || echo absent')).toBe('absent\n');
    expect(summaries(await lvsprov('reset', '--yes'))).toEqual([]);
  });
});
