import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { drInventory, drLabSpec, writeInventory } from '../support/dr-lab.js';
import { labSh } from '../support/lab-sh.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// lvs.sessions on real hosts: Debian's memcached on two real servers, bound to their own
// addresses and reachable from the real servers alone, and php-cgi (run by busybox httpd) keeping
// sessions there, so one user's requests count on whichever real server answers. Real daemons
// from Debian's packages; everything is read back through nsenter, not lvsprov's SSH.

const availability = labAvailability();
const limit = ['--limit', 'routers,realservers'];
const RIPS: Record<string, string> = { rs1: '192.0.2.11', rs2: '192.0.2.12', rs3: '192.0.2.13' };

describe.skipIf(skipLabSuite(availability))(`sessions in memcached on real hosts (${availability.reason})`, () => {
  let lab: Lab;
  let dir: string;
  let inventory: string;
  let session: string | undefined;

  const sh = (host: string, script: string): Promise<string> => labSh(lab, host, script);
  const apply = (...args: string[]) => runCli(['apply', '-i', inventory, ...limit, ...args], { namespace: lab.controlNamespace });
  const writeCluster = (sessions: Record<string, unknown>): void => {
    const base = drInventory(lab);
    const groups = base.groups as Record<string, { hosts: string[] }>;
    groups.realservers!.hosts.push('rs3');
    (base.hosts as Record<string, unknown>).rs3 = { address: RIPS.rs3 };
    const lvs = base.lvs as { services: Array<{ real_servers: Array<Record<string, unknown>> }> };
    lvs.services[0]!.real_servers.push({ host: 'rs3', weight: 1 });
    inventory = writeInventory(dir, 'inventory.yaml', { ...base, lvs: { ...lvs, sessions } });
  };
  /**
   * One request of one user to one real server's page. Through a VIP every server gets the same
   * cookie; asked by their own addresses, each would get only its own, so the session id is sent
   * as the VIP would carry it.
   */
  const request = async (host: string): Promise<{ server: string; requests: number; session: string }> => {
    const cookie = session === undefined ? [] : ['-b', `PHPSESSID=${session}`];
    const result = await lab.runInControl(['curl', '-s', '--max-time', '10', ...cookie, `http://${RIPS[host]}/cgi-bin/session.php`]);
    const match = /^server=(\S+) requests=(\d+) session=(\S+)$/m.exec(result.stdout);
    if (!match) throw new Error(`${host} answered: ${result.stdout} ${result.stderr}`);
    session = match[3]!;
    return { server: match[1]!, requests: Number(match[2]), session: match[3]! };
  };
  /**
   * Users who click on while stores stop and restart: each of `USERS` asks one real server after
   * another (round-robin, as through the VIP), and every answer must count on from the user's last.
   * A session read empty (a store that came back without it) starts again at 1.
   */
  const USERS = Array.from({ length: 8 }, (_, index) => `lvsprovuser${index}abcdefghijklmnop`);
  const counts = new Map<string, number>();
  let turn = 0;
  const everyUserClicks = async (): Promise<void> => {
    for (const user of USERS) {
      const host = ['rs1', 'rs2', 'rs3'][turn++ % 3]!;
      const result = await lab.runInControl(['curl', '-s', '--max-time', '10', '-b', `PHPSESSID=${user}`, `http://${RIPS[host]}/cgi-bin/session.php`]);
      const answered = /^server=\S+ requests=(\d+) session=(\S+)$/m.exec(result.stdout);
      if (!answered) throw new Error(`${host} answered ${user}: ${result.stdout} ${result.stderr}`);
      const expected = (counts.get(user) ?? 0) + 1;
      expect(`${user} on ${host}: ${answered[1]}`).toBe(`${user} on ${host}: ${expected}`);
      counts.set(user, expected);
    }
  };
  /** The items in `store`'s memcached, as its `stats` counts them. */
  const itemsIn = async (store: string): Promise<number> =>
    Number(/STAT curr_items (\d+)/.exec(await sh('rs3', `printf 'stats\\r\\nquit\\r\\n' | timeout 3 busybox nc -w 2 ${RIPS[store]} 11211 || true`))?.[1] ?? -1);

  /** memcached's answer to `version` from `host`, or '' when nothing answers within 2 s. */
  const askMemcached = async (from: string, store: string): Promise<string> =>
    (await sh(from, `printf 'version\\r\\n' | timeout 3 busybox nc -w 2 ${RIPS[store]} 11211 || true`)).trim();
  const memcachedCommandLine = (host: string): Promise<string> => sh(host, 'p=$(cat /run/memcached.pid) && tr "\\0" " " < /proc/"$p"/cmdline');

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-itsess-'));
    const spec = drLabSpec('itsess');
    lab = await createLab({ ...spec, hosts: [...spec.hosts, { name: 'rs3', interfaces: [{ subnet: 'lan', address: RIPS.rs3! }] }] }, join(dir, 'lab'));
    writeCluster({ hosts: ['rs1', 'rs2'], memory_mb: 64 });
  });

  afterAll(async () => {
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('apply runs memcached on the stores, bound to their own address, and PHP on every real server keeps sessions there', async () => {
    const result = await apply();
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    for (const store of ['rs1', 'rs2']) {
      const listening = await sh(store, "ss -ltnH | awk '{print $4}'");
      expect(listening.split('\n')).toContain(`${RIPS[store]}:11211`);
      expect(listening).not.toMatch(/(^|\n)(127\.0\.0\.1|0\.0\.0\.0|\*):11211/);
      expect(await memcachedCommandLine(store)).toMatch(new RegExp(`-l ${RIPS[store]!.replace(/\./g, '\\.')} -p 11211 -U 0 -m 64 -c 1024`));
    }
    expect(await sh('rs3', "ss -ltnH | awk '{print $4}'")).not.toContain(':11211');
    expect(await sh('rs3', 'cat /etc/php/8.2/cgi/conf.d/30-lvsprov-sessions.ini')).toContain('session.save_path = "192.0.2.11:11211,192.0.2.12:11211"');

    // One user, three servers: the count goes on because the session lives in memcached.
    const answers = [await request('rs1'), await request('rs2'), await request('rs3'), await request('rs1')];
    expect(answers.map(({ server, requests }) => [server, requests])).toEqual([
      ['rs1', 1],
      ['rs2', 2],
      ['rs3', 3],
      ['rs1', 4],
    ]);
    expect(new Set(answers.map(({ session }) => session)).size).toBe(1);
  });

  it('memcached answers the real servers and no one else', async () => {
    expect(await askMemcached('rs3', 'rs1')).toMatch(/^VERSION \d+\.\d+/);
    expect(await askMemcached('rs2', 'rs1')).toMatch(/^VERSION \d+\.\d+/);
    // The router is on the same LAN, and is no real server.
    expect(await askMemcached('router', 'rs1')).toBe('');
    expect(await askMemcached('router', 'rs2')).toBe('');
  });

  it('a second apply changes nothing', async () => {
    const json = parseJson(await apply('--json'));
    expect(json.hosts.map((host) => [host.host, host.status])).toEqual([
      ['router', 'ok'],
      ['rs1', 'ok'],
      ['rs2', 'ok'],
      ['rs3', 'ok'],
    ]);
  });

  it('a store that stops loses no session (each is on both stores); apply starts it again, filled from the other store', async () => {
    await everyUserClicks();
    const before = (await request('rs2')).requests;
    await sh('rs1', '/etc/init.d/memcached stop >/dev/null');
    expect(await askMemcached('rs3', 'rs1')).toBe('');
    expect((await request('rs3')).requests).toBe(before + 1);
    expect((await request('rs1')).requests).toBe(before + 2);
    await everyUserClicks();
    const result = await apply();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('start memcached');
    expect(await askMemcached('rs3', 'rs1')).toMatch(/^VERSION/);
    // The started store holds every session (the users' and the first one) before PHP may read it:
    // a user whose session it holds first would otherwise start again at 1.
    expect(await itemsIn('rs1')).toBe(await itemsIn('rs2'));
    expect(await itemsIn('rs1')).toBeGreaterThanOrEqual(USERS.length + 1);
    await everyUserClicks();
    await everyUserClicks();
  });

  it('changed settings restart memcached with them, one store at a time, and no session is lost; a re-run changes nothing', async () => {
    writeCluster({ hosts: ['rs1', 'rs2'], memory_mb: 32 });
    const check = await apply('--check', '--diff');
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('restart memcached: /etc/memcached.conf changed');
    expect(check.stdout).toContain('-m 32');
    expect(await memcachedCommandLine('rs1')).toContain('-m 64');

    const result = await apply();
    expect(result.code, result.stderr).toBe(0);
    for (const store of ['rs1', 'rs2']) expect(await memcachedCommandLine(store)).toContain('-m 32');
    // Both stores restarted, one after the other, each filled from the other before PHP came back
    // to it: no user starts again (restarted together, they would have copied from each other empty).
    await everyUserClicks();
    await everyUserClicks();
    const again = await apply('--check', '--exit-code');
    expect(again.code, again.stdout).toBe(0);
  });

  it('a store added to the list starts filled from the others, before any PHP reads it: no session is lost', async () => {
    writeCluster({ hosts: ['rs1', 'rs2', 'rs3'], memory_mb: 32 });
    // Every real server names the new store, and the other stores let it in, before it starts
    // (until then it refuses them, and they use the other stores): so it copies what they wrote
    // under the new list too.
    const check = await apply('--check');
    expect(check.code, check.stdout).toBe(0);
    const waves = check.stdout.split(/^== wave \d of \d: /m).slice(1);
    expect(waves.map((wave) => wave.split(' ')[0])).toEqual(['prepare', 'balance']);
    expect(waves[0]).toMatch(/30-lvsprov-sessions\.ini/);
    expect(waves[0]).toMatch(/lvsprov_memcached/);
    expect(waves[0]).not.toMatch(/start memcached/);
    expect(waves[1]).toMatch(/^balance \(rs3\) ==\n[^]*start memcached/);
    const result = await apply();
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(await sh('rs1', 'cat /etc/php/8.2/cgi/conf.d/30-lvsprov-sessions.ini')).toContain('session.save_path = "192.0.2.11:11211,192.0.2.12:11211,192.0.2.13:11211"');
    expect(await itemsIn('rs3')).toBe(await itemsIn('rs1'));
    // About a third of the sessions have rs3 as their first store now.
    await everyUserClicks();
    await everyUserClicks();
    // Back to two stores for the cases below: rs3's memcached is stopped and its settings go.
    writeCluster({ hosts: ['rs1', 'rs2'], memory_mb: 32 });
    const back = await apply();
    expect(back.code, `${back.stdout}\n${back.stderr}`).toBe(0);
    await everyUserClicks();
  });

  it('a store that reboots comes back with PHP kept out until it is filled from the other store: no session is lost', async () => {
    // What a reboot loses: memcached's items and the kernel's tables. Then what sysvinit runs at
    // boot, in order: rcS.d's links (the allowlist with the two boot rules), then runlevel 2's
    // (memcached itself and the copier's hook, which waits for it in the background).
    await sh('rs1', '/etc/init.d/memcached stop >/dev/null; nft delete table inet lvsprov_memcached');
    await sh('rs1', 'for link in /etc/rcS.d/S* /etc/rc2.d/S*; do case "$link" in *lvsprov-memcached-*|*memcached) "$link" start >/dev/null 2>&1 ;; esac; done');
    // The boot rules come off once the copy is in.
    await sh('rs1', 'i=0; while nft list table inet lvsprov_memcached | grep -q reject && [ $i -lt 100 ]; do i=$((i+1)); sleep 0.1; done');
    expect(await sh('rs1', 'nft list table inet lvsprov_memcached')).not.toContain('reject');
    expect(await sh('rs1', 'cat /run/lvsprov-memcached-seed.log')).toMatch(/^memcached-seed: \d+ added from 192\.0\.2\.12/);
    expect(await itemsIn('rs1')).toBe(await itemsIn('rs2'));
    await everyUserClicks();
    await everyUserClicks();
    expect((await apply('--check', '--exit-code')).code).toBe(0);
  });

  it('a configuration written after memcached last started (a restart that failed, say) restarts it on the next apply', async () => {
    // The same content, written anew: only its time says that memcached has not read it.
    await sh('rs2', 'sleep 0.05; cp -p /etc/memcached.conf /tmp/m && cat /tmp/m > /etc/memcached.conf');
    const pidBefore = (await sh('rs2', 'cat /run/memcached.pid')).trim();
    const result = await apply();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('restart memcached: /etc/memcached.conf changed since it started');
    expect((await sh('rs2', 'cat /run/memcached.pid')).trim()).not.toBe(pidBefore);
    expect((await apply('--check', '--exit-code')).code).toBe(0);
  });

  it('a real server taken out of the services is shut out of memcached', async () => {
    const base = drInventory(lab);
    // rs3 leaves the service: it is no real server any more, so memcached refuses it.
    inventory = writeInventory(dir, 'inventory.yaml', { ...base, lvs: { ...(base.lvs as object), sessions: { hosts: ['rs1', 'rs2'], memory_mb: 32 } } });
    const result = await apply();
    expect(result.code, result.stderr).toBe(0);
    expect(await askMemcached('rs3', 'rs1')).toBe('');
    expect(await askMemcached('rs2', 'rs1')).toMatch(/^VERSION/);
  });

  it('reset stops memcached and takes away its settings, its copier, its allowlist, its boot hook and the session settings', async () => {
    const result = await runCli(['reset', '-i', inventory, ...limit, '--yes'], { namespace: lab.controlNamespace });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    for (const store of ['rs1', 'rs2']) {
      expect(await sh(store, "ss -ltnH | awk '{print $4}'")).not.toContain(':11211');
      expect(await sh(store, 'nft list tables')).not.toContain('lvsprov_memcached');
      expect(await sh(store, 'ls /etc/memcached.conf /etc/lvsprov/memcached-allow.nft /usr/local/lib/lvsprov/memcached-seed /etc/init.d/lvsprov-memcached-allow /etc/init.d/lvsprov-memcached-seed /etc/lvsprov/memcached-boot.nft /etc/php/8.2/cgi/conf.d/30-lvsprov-sessions.ini 2>&1 || true')).not.toMatch(/^\//m);
    }
    const again = await runCli(['reset', '-i', inventory, ...limit, '--yes', '--check', '--exit-code'], { namespace: lab.controlNamespace });
    expect(again.code, again.stdout).toBe(0);
  });
});
