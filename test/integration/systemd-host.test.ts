import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { hostCgroupDirs } from '../../src/lab/netns/cgroups.js';
import { parseJson, runCli } from '../support/cli.js';
import { drInventory, drLabSpec, writeInventory } from '../support/dr-lab.js';
import { labSh } from '../support/lab-sh.js';

// A session store whose host boots systemd, as production hosts do: rs1 runs systemd as its first
// process (its own PID and cgroup namespaces), and Debian's memcached.service, with its sandbox
// and its Restart=always, runs under it; rs2, the other store, is a sysvinit host. The service
// task's around_start goes into a drop-in of the unit, so that systemd fences and fills memcached
// around every start it makes: also the one after a crash, which lvsprov never sees.

const availability = labAvailability();
const limit = ['--limit', 'routers,realservers'];
const RIPS: Record<string, string> = { rs1: '192.0.2.11', rs2: '192.0.2.12' };
const DROP_IN = '/etc/systemd/system/memcached.service.d/lvsprov-around-start.conf';

describe.skipIf(skipLabSuite(availability))(`a session store on a host that boots systemd (${availability.reason})`, () => {
  let lab: Lab;
  let dir: string;
  let inventory: string;

  const sh = (host: string, script: string): Promise<string> => labSh(lab, host, script);
  const apply = (...args: string[]) => runCli(['apply', '-i', inventory, ...limit, ...args], { namespace: lab.controlNamespace });
  const unit = async (property: string): Promise<string> => (await sh('rs1', `systemctl show -p ${property} --value memcached`)).trim();

  /** Users who click one real server after the other; each answer's count against the user's last. */
  const USERS = Array.from({ length: 8 }, (_, index) => `lvsprovsystemd${index}abcdefghijklmn`);
  const counts = new Map<string, number>();
  let turn = 0;
  /** One click of every user: the users whose count did not go on (their session read empty) start again at 1. */
  const everyUserClicks = async (): Promise<string[]> => {
    const startedAfresh: string[] = [];
    for (const user of USERS) {
      const host = ['rs1', 'rs2'][turn++ % 2]!;
      const result = await lab.runInControl(['curl', '-s', '--max-time', '10', '-b', `PHPSESSID=${user}`, `http://${RIPS[host]}/cgi-bin/session.php`]);
      const answered = /^server=\S+ requests=(\d+) session=\S+$/m.exec(result.stdout);
      if (!answered) throw new Error(`${host} answered ${user}: ${result.stdout} ${result.stderr}`);
      const count = Number(answered[1]);
      if (count !== (counts.get(user) ?? 0) + 1) startedAfresh.push(`${user} on ${host}: ${count} after ${counts.get(user) ?? 0}`);
      counts.set(user, count);
    }
    return startedAfresh;
  };
  const itemsIn = async (store: string): Promise<number> =>
    Number(/STAT curr_items (\d+)/.exec(await sh('rs2', `printf 'stats\\r\\nquit\\r\\n' | timeout 3 busybox nc -w 2 ${RIPS[store]} 11211 || true`))?.[1] ?? -1);

  /**
   * Kill memcached as a crash would, and wait until systemd started it again, the start (its
   * commands included) is done and memcached answers the real servers.
   */
  const crashMemcached = async (): Promise<void> => {
    const before = Number(await unit('NRestarts'));
    await sh('rs1', 'kill -KILL "$(systemctl show -p MainPID --value memcached)"');
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (Number(await unit('NRestarts')) > before && (await unit('ActiveState')) === 'active' && (await itemsIn('rs1')) >= 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`systemd did not restart memcached: ${await unit('ActiveState')}`);
  };

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-itsysd-'));
    const spec = drLabSpec('itsysd');
    lab = await createLab({ ...spec, hosts: spec.hosts.map((host) => (host.name === 'rs1' ? { ...host, init: 'systemd' as const } : host)) }, join(dir, 'lab'));
    const base = drInventory(lab);
    inventory = writeInventory(dir, 'inventory.yaml', { ...base, lvs: { ...(base.lvs as object), sessions: { hosts: ['rs1', 'rs2'], memory_mb: 64 } } });
  });

  afterAll(async () => {
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
    // The cgroups made for rs1 went with it (this process started the lab, so they sit under its own).
    const cgroups = hostCgroupDirs('lvsprov-lab-itsysd-rs1');
    expect(cgroups.length).toBeGreaterThan(0);
    expect(cgroups.filter((cgroup) => existsSync(cgroup))).toEqual([]);
  });

  it('boots rs1 with systemd in cgroups of its own: lvsprov finds it there, as on a production host', async () => {
    expect((await sh('rs1', 'cat /proc/1/comm; systemctl is-system-running || true')).split('\n').slice(0, 2)).toEqual(['systemd', 'running']);
    // systemd made its init.scope under them (in the hierarchies it uses), not under the machine's root.
    expect(hostCgroupDirs('lvsprov-lab-itsysd-rs1').filter((cgroup) => existsSync(`${cgroup}/init.scope`)).length).toBeGreaterThan(0);
    expect(existsSync('/sys/fs/cgroup/systemd/init.scope')).toBe(false);
    expect(await sh('rs2', 'cat /proc/1/comm')).not.toBe('systemd\n');
  });

  it('apply runs memcached under systemd with the around_start drop-in, its boot hooks as enabled units, and sessions span both stores', async () => {
    const result = await apply();
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(await unit('ActiveState')).toBe('active');
    expect(await unit('UnitFileState')).toBe('enabled');
    expect(await unit('DropInPaths')).toBe(DROP_IN);
    expect(await unit('TimeoutStartUSec')).toBe('5min 30s');
    // Debian's own unit, under its sandbox, bound to the store's address by lvsprov's settings.
    expect(await sh('rs1', 'tr "\\0" " " < /proc/"$(systemctl show -p MainPID --value memcached)"/cmdline')).toMatch(/-l 192\.0\.2\.11 -p 11211 -U 0 -m 64/);
    const dropIn = await sh('rs1', `cat ${DROP_IN}`);
    expect(dropIn).toContain('ExecStartPre=+/usr/sbin/nft "insert" "rule" "inet" "lvsprov_memcached" "input" "tcp" "dport" "11211" "reject" "with" "tcp" "reset"');
    expect(dropIn).toContain('ExecStartPost=+/usr/bin/perl "/usr/local/lib/lvsprov/memcached-seed" "--open" "/etc/lvsprov/memcached-allow.nft" "--fence" "lvsprov_memcached" "192.0.2.11" "11211" "300" "192.0.2.12"');
    expect((await sh('rs1', 'systemctl is-enabled lvsprov-memcached-allow.service lvsprov-memcached-seed.service')).split('\n').slice(0, 2)).toEqual(['enabled', 'enabled']);
    // rs2 has no systemd: no drop-in there, lvsprov ran the same commands around its start itself.
    expect(await sh('rs2', `[ -e ${DROP_IN} ] && echo present || echo absent`)).toBe('absent\n');
    expect(await everyUserClicks()).toEqual([]);
    expect(await everyUserClicks()).toEqual([]);
  });

  it('a second apply changes nothing on either host', async () => {
    const json = parseJson(await apply('--json'));
    expect(json.hosts.map((host) => [host.host, host.status])).toEqual([
      ['router', 'ok'],
      ['rs1', 'ok'],
      ['rs2', 'ok'],
    ]);
  });

  it('a memcached that crashes comes back through systemd fenced and filled from the other store: no session is lost', async () => {
    await everyUserClicks();
    const held = await itemsIn('rs2');
    expect(held).toBeGreaterThanOrEqual(USERS.length);
    await crashMemcached();
    // Filled before the fence came down, and the fence is down: only the allowlist's own two rules.
    expect(await itemsIn('rs1')).toBe(held);
    expect(await sh('rs1', 'nft list table inet lvsprov_memcached | grep -c "dport 11211"')).toBe('2\n');
    expect(await everyUserClicks()).toEqual([]);
    expect(await everyUserClicks()).toEqual([]);
    // Nothing for lvsprov to do: systemd made the start with the commands an apply would make.
    const again = await apply('--check', '--exit-code');
    expect(again.code, again.stdout).toBe(0);
  });

  it('without the drop-in, the same crash loses the sessions whose first store is rs1; the next apply puts it back', async () => {
    await sh('rs1', `rm ${DROP_IN} && systemctl daemon-reload`);
    await crashMemcached();
    expect(await itemsIn('rs1')).toBe(0);
    const lost = await everyUserClicks();
    expect(lost.length).toBeGreaterThan(0);
    expect(lost.length).toBeLessThan(USERS.length);

    const check = await apply('--check', '--diff');
    expect(check.stdout).toContain(`create ${DROP_IN}`);
    const result = await apply();
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(await unit('DropInPaths')).toBe(DROP_IN);
    await crashMemcached();
    expect(await everyUserClicks()).toEqual([]);
  });

  it('an operator restarting memcached with systemctl gets the same fence and copy', async () => {
    await sh('rs1', 'systemctl restart memcached');
    expect(await itemsIn('rs1')).toBe(await itemsIn('rs2'));
    expect(await everyUserClicks()).toEqual([]);
  });

  it('a store a failed copy left fenced stays fenced through the next apply until its restart has copied', async () => {
    // What a copy that failed leaves: the fence up, the start unrecorded.
    await sh('rs1', 'nft insert rule inet lvsprov_memcached input tcp dport 11211 reject with tcp reset && nft insert rule inet lvsprov_memcached input ip saddr 127.0.0.1 tcp dport 11211 accept && rm /var/lib/lvsprov/service-memcached.started');
    const check = await apply('--check');
    expect(check.code, check.stdout).toBe(0);
    // The allowlist reads as it should be: loading it again (in prepare) would open the store unfilled.
    expect(check.stdout).not.toContain('nftables table lvsprov_memcached');
    expect(check.stdout).toContain('restart memcached: lvsprov never started it');
    const result = await apply();
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(await sh('rs1', 'nft list table inet lvsprov_memcached | grep -c "dport 11211"')).toBe('2\n');
    expect(await itemsIn('rs1')).toBe(await itemsIn('rs2'));
    expect(await everyUserClicks()).toEqual([]);
  });

  it('at boot, systemd runs the boot units and the drop-in in their order: the store comes up fenced, filled, then open', async () => {
    // What a reboot leaves: memcached not running, the allowlist's table gone from the kernel.
    await sh('rs1', 'systemctl stop memcached && nft delete table inet lvsprov_memcached');
    expect(await itemsIn('rs1')).toBe(-1);
    // One transaction, ordered by the units' own After= and Before= as boot orders them: the boot
    // file before network-pre.target, memcached after network.target, which a target of boot's
    // wants (it refuses a start of its own).
    const wants = 'lvsprov-memcached-allow.service network.target memcached.service lvsprov-memcached-seed.service';
    await sh('rs1', `printf '%s\\n' '[Unit]' 'Wants=${wants}' > /run/systemd/system/lvsprov-test-boot.target && systemctl daemon-reload && systemctl start lvsprov-test-boot.target`);
    const started = (unit: string): Promise<string> => sh('rs1', `systemctl show -p ActiveEnterTimestampMonotonic --value ${unit}`);
    expect(Number(await started('lvsprov-memcached-allow.service'))).toBeLessThan(Number(await started('memcached.service')));
    const deadline = Date.now() + 20_000;
    while ((await sh('rs1', 'nft list table inet lvsprov_memcached | grep -c "dport 11211" || true')).trim() !== '2' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await sh('rs1', 'nft list table inet lvsprov_memcached | grep -c "dport 11211"')).toBe('2\n');
    expect(await itemsIn('rs1')).toBe(await itemsIn('rs2'));
    // Two copiers ran, the unit's and the boot hook's: one after the other, the second finding the fence gone.
    const said = await sh('rs1', 'journalctl -q -o cat -u memcached.service --since "-20 s" | grep memcached-seed | tail -n 1; cat /run/lvsprov-memcached-seed.log');
    expect(said.split('\n').filter((line) => line !== '').map((line) => (line.includes('fence is down') ? 'ended' : /added from 192\.0\.2\.12/.test(line) ? 'copied' : line)).sort()).toEqual(['copied', 'ended']);
    expect(await everyUserClicks()).toEqual([]);
    const again = await apply('--check', '--exit-code');
    expect(again.code, again.stdout).toBe(0);
  });

  it('reset stops and disables memcached, removes the drop-in and the boot units, and systemd forgets them', async () => {
    const result = await runCli(['reset', '-i', inventory, ...limit, '--yes'], { namespace: lab.controlNamespace });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(await unit('ActiveState')).toBe('inactive');
    expect(await unit('UnitFileState')).toBe('disabled');
    expect(await unit('DropInPaths')).toBe('');
    expect(await sh('rs1', 'ls /etc/systemd/system/lvsprov-memcached-allow.service /etc/systemd/system/lvsprov-memcached-seed.service 2>&1 || true')).not.toMatch(/^\//m);
    expect(await sh('rs1', 'systemctl show -p LoadState --value lvsprov-memcached-allow.service')).toBe('not-found\n');
    const again = await runCli(['reset', '-i', inventory, ...limit, '--yes', '--check', '--exit-code'], { namespace: lab.controlNamespace });
    expect(again.code, again.stdout).toBe(0);
  });
});
