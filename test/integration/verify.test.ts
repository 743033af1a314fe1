import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { findExecutable } from '../../src/lab/qemu/tools.js';
import type { VerifyReport } from '../../src/verify/report.js';
import { runCli, startCli, type CliResult } from '../support/cli.js';
import { writeInventory } from '../support/dr-lab.js';
import { RIP, startVerifyLab, verifyInventory, VIP } from '../support/verify-lab.js';
import { labSh } from '../support/lab-sh.js';

// `lvsprov verify` against real sshd, real web servers and real ARP on network-namespace hosts.
// This kernel has no IPVS, so the traffic to the VIP is steered by hand: a route on the router
// that sends it all to rs1, or an nftables rule on the router that DNATs new connections 1:2 to
// rs1 and rs2 in strict rotation (what IPVS wrr does with weights 1 and 2). The full IPVS case
// runs in the qemu lab. The state verify reports is read back through nsenter (lab.exec).

const availability = labAvailability();
const requests = ['--requests', '30'];

describe.skipIf(skipLabSuite(availability))(`verify on real hosts (${availability.reason})`, () => {
  let lab: Lab;
  let dir: string;
  let inventory: string;

  const sh = (host: string, script: string): Promise<string> => labSh(lab, host, script);
  const mac = async (host: string): Promise<string> => (await sh(host, 'cat /sys/class/net/eth0/address')).trim();
  const verify = (file: string, ...args: string[]): Promise<CliResult> => runCli(['verify', '-i', file, ...args], { namespace: lab.controlNamespace });
  const report = (result: CliResult): VerifyReport & { exitCode: number } => {
    try {
      return JSON.parse(result.stdout) as VerifyReport & { exitCode: number };
    } catch {
      throw new Error(`verify did not print JSON (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
    }
  };
  const counts = (json: VerifyReport): Record<string, number> => Object.fromEntries(json.services[0]?.servers.map((row) => [row.name, row.answers]) ?? []);
  /**
   * New connections to VIP:80 go to rs1, rs2, rs2, rs1, ... (replaces any earlier rule set). Only a
   * SYN takes a turn: a stray packet of a flow the router no longer tracks (a late ACK or FIN of an
   * earlier test's connection, picked up as new) would otherwise shift the sequence by one.
   */
  const splitOneToTwo = (): Promise<string> =>
    sh(
      'router',
      `nft delete table ip lvsprovtest 2>/dev/null; nft -f - <<'EOF'
table ip lvsprovtest {
  chain pre {
    type nat hook prerouting priority dstnat;
    ip daddr ${VIP} tcp dport 80 tcp flags & (syn | ack) == syn dnat to numgen inc mod 3 map { 0 : ${RIP.rs1}, 1 : ${RIP.rs2}, 2 : ${RIP.rs2} }
  }
}
EOF`,
    );
  const noSplit = (): Promise<string> => sh('router', 'nft delete table ip lvsprovtest 2>/dev/null; true');
  /** Hide programs in one host's own overlay filesystem; refuses to touch anything but an overlay root. */
  const hide = (host: string, paths: string[]): Promise<string> =>
    sh(host, `[ "$(stat -f -c %T /)" = overlayfs ] || exit 1; for p in ${paths.join(' ')}; do [ ! -e "$p" ] || mv "$p" "$p.hidden"; done`);
  const unhide = (host: string, paths: string[]): Promise<string> => sh(host, `for p in ${paths.join(' ')}; do [ -e "$p.hidden" ] && mv "$p.hidden" "$p"; done; true`);

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    if (findExecutable('nft') === undefined) throw new Error('nft is missing: the router splits traffic with nftables (apt package nftables; scripts/setup.sh installs it)');
    ({ lab, dir } = await startVerifyLab('itvfy'));
    inventory = writeInventory(dir, 'inventory.yaml', verifyInventory(lab));
    const applied = await runCli(['apply', '-i', inventory, '--limit', 'routers,realservers,clients'], { namespace: lab.controlNamespace });
    if (applied.code !== 0) throw new Error(`apply failed (exit ${applied.code}):\n${applied.stdout}\n${applied.stderr}`);
    // The director's part without IPVS: it holds the VIP on eth0, as the director role puts it.
    await sh('director', `ip addr add ${VIP}/32 dev eth0 label eth0:c6336432`);
  });

  afterAll(async () => {
    const destroyed = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(destroyed?.leftovers ?? []).toEqual([]);
  });

  it('fails naming rs2 when the router sends the VIP to rs1 alone; pages and ARP pass; one connection and one exec per host', async () => {
    await noSplit();
    await sh('router', `ip route replace ${VIP}/32 via ${RIP.rs1} dev eth1`);
    try {
      const text = await verify(inventory, ...requests);
      expect(text.code, text.stderr).toBe(5);
      expect(text.stdout).toMatch(/service web {2}tcp 198\.51\.100\.50:80 {2}wrr {2}dr {2}FAIL/);
      expect(text.stdout).toMatch(/rs2 +192\.0\.2\.12:80 +2 +66\.7% +0\.0% +0 +\[\.+\|\.+\] +! never answered/);
      expect(text.stdout).toContain('  - service web: rs2 never answered (expected 66.7% of the requests)');
      // rs1 got every request that reached a server: its share among those, not a second problem.
      expect(text.stdout).toMatch(/RESULT: FAIL \(1 problem\)/);

      const json = report(await verify(inventory, ...requests, '--json'));
      expect(json.exitCode).toBe(5);
      expect(counts(json)).toEqual({ rs1: 30, rs2: 0 });
      expect(json.services[0]?.servers.map((row) => row.verdict)).toEqual(['ok', 'silent']);
      expect(json.pages.map((page) => [page.host, page.status, page.got])).toEqual([
        ['rs1', 'pass', 'rs1'],
        ['rs2', 'pass', 'rs2'],
      ]);
      expect(json.arp.map((check) => [check.vip, check.status, check.checker, check.device, check.lan])).toEqual([[VIP, 'pass', 'router', 'eth1', '192.0.2.0/24']]);
      expect(json.arp[0]?.responders.map((responder) => [responder.host, responder.mac])).toEqual([['director', await mac('director')]]);
      expect(json.hosts.map((host) => [host.host, host.roles, host.stats])).toEqual([
        ['client', ['client'], { connections: 1, execs: 1 }],
        ['director', ['director'], { connections: 1, execs: 1 }],
        ['router', ['arp checker'], { connections: 1, execs: 1 }],
      ]);
    } finally {
      await sh('router', `ip route replace ${VIP}/32 dev eth1`);
    }
  });

  it('passes on a 1:2 split against weights 1 and 2, fails it against 1 and 1, and passes that with a wider tolerance', async () => {
    await splitOneToTwo();
    const pass = report(await verify(inventory, ...requests, '--json'));
    expect(pass.failures).toEqual([]);
    expect(pass.exitCode).toBe(0);
    expect(pass.fetcher).toBe('curl');
    expect(counts(pass)).toEqual({ rs1: 10, rs2: 20 });
    expect(pass.services[0]?.servers.map((row) => [row.expectedPercent?.toFixed(1), row.gotPercent.toFixed(1), row.verdict])).toEqual([
      ['33.3', '33.3', 'ok'],
      ['66.7', '66.7', 'ok'],
    ]);

    const even = writeInventory(dir, 'inventory-even.yaml', verifyInventory(lab, [1, 1]));
    const off = await verify(even, ...requests);
    expect(off.code).toBe(5);
    expect(off.stdout).toContain('rs1 got 33.3% of the requests, expected 50.0%: off by 16.7 percentage points, more than the tolerance of 10 percentage points');
    expect(off.stdout).toContain('rs2 got 66.7% of the requests, expected 50.0%: off by 16.7 percentage points');
    const wide = await verify(even, ...requests, '--tolerance', '20');
    expect(wide.code, wide.stdout).toBe(0);
    expect(wide.stdout).toMatch(/RESULT: PASS/);
  });

  it('fails ARP naming the real server that answers for the VIP: arp_ignore 0 on rs1, or the VIP on eth0 of rs2', async () => {
    await splitOneToTwo();
    await sh('rs1', 'sysctl -q -w net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.lo.arp_ignore=0');
    try {
      const json = report(await verify(inventory, '--requests', '6', '--json'));
      expect(json.exitCode).toBe(5);
      expect(json.services[0]?.status).toBe('pass');
      expect(json.arp[0]?.status).toBe('fail');
      expect(json.failures).toEqual([`ARP ${VIP}: rs1 (${await mac('rs1')}) answers ARP for ${VIP}: only the director may`]);
      expect(new Set(json.arp[0]?.responders.map((responder) => responder.host))).toEqual(new Set(['director', 'rs1']));
    } finally {
      await sh('rs1', 'sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.lo.arp_ignore=1');
    }

    await sh('rs2', `ip addr add ${VIP}/32 dev eth0`);
    try {
      const text = await verify(inventory, '--requests', '6');
      expect(text.code).toBe(5);
      expect(text.stdout).toContain(`! rs2 (${await mac('rs2')}) answers ARP for ${VIP}: only the director may`);
    } finally {
      await sh('rs2', `ip addr del ${VIP}/32 dev eth0`);
    }

    const clean = report(await verify(inventory, '--requests', '6', '--json'));
    expect([clean.exitCode, clean.arp[0]?.status, clean.arp[0]?.responders.map((responder) => responder.host)]).toEqual([0, 'pass', ['director']]);
  });

  it('fetches with busybox wget on a client without curl and wget, and arps with busybox on a router without iputils arping', async () => {
    await splitOneToTwo();
    await hide('client', ['/usr/bin/curl', '/usr/bin/wget']);
    await hide('router', ['/usr/bin/arping']);
    try {
      const json = report(await verify(inventory, ...requests, '--json'));
      expect(json.fetcher).toBe('busybox wget');
      expect(json.arp[0]?.tool).toBe('busybox');
      expect(counts(json)).toEqual({ rs1: 10, rs2: 20 });
      expect(json.exitCode).toBe(0);
    } finally {
      await unhide('client', ['/usr/bin/curl', '/usr/bin/wget']);
      await unhide('router', ['/usr/bin/arping']);
    }
  });

  it('reports an unreachable client with exit 3 and still checks ARP', async () => {
    const unreachable = verifyInventory(lab);
    (unreachable.hosts as Record<string, Record<string, unknown>>).client = { address: '203.0.113.100', ssh: { port: 2 } };
    const file = writeInventory(dir, 'inventory-unreachable.yaml', unreachable);
    const json = report(await verify(file, ...requests, '--json'));
    expect(json.exitCode).toBe(3);
    expect(json.unreachable).toEqual([expect.stringMatching(/^client: /)]);
    expect(json.services.map((service) => service.status)).toEqual(['not-run']);
    expect(json.pages.map((page) => page.status)).toEqual(['not-run', 'not-run']);
    expect(json.arp[0]?.status).toBe('pass');
  });

  it('piped, reports each service on stderr as its requests end, while stdout waits for the report alone', async () => {
    // A second service on a VIP the router black-holes: each of its requests times out, so it
    // runs for seconds after the first service is done.
    const slowVip = '198.51.100.60';
    await splitOneToTwo();
    await sh('router', `ip route replace blackhole ${slowVip}/32`);
    try {
      const twoServices = verifyInventory(lab);
      const lvs = twoServices.lvs as { vips: Record<string, unknown>; services: Array<Record<string, unknown>> };
      lvs.vips.slow = { address: slowVip };
      lvs.services.push({ name: 'slow', vip: 'slow', port: 80, scheduler: 'rr', forwarding: 'dr', real_servers: [{ host: 'rs1' }, { host: 'rs2' }] });
      const file = writeInventory(dir, 'inventory-two-services.yaml', twoServices);
      const run = startCli(['verify', '-i', file, '--requests', '3', '--timeout', '2', '--json'], { namespace: lab.controlNamespace });
      const deadline = Date.now() + 60_000;
      while (!/^verify: service web:/m.test(run.output().stderr) && run.child.exitCode === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      // The first service is reported while the second still runs, and nothing is on stdout yet.
      expect(run.output().stderr).toMatch(/^verify: service web: 3 of 3 answered in \d+\.\d s \((rs1|rs2) \d, (rs1|rs2) \d\)$/m);
      expect(run.output().stderr).not.toMatch(/service slow/);
      expect(run.output().stdout).toBe('');
      expect(run.child.exitCode).toBeNull();

      const result = await run.done;
      console.info(`[verify progress]\n${result.stderr}`);
      expect(result.code).toBe(5);
      const lines = result.stderr.trimEnd().split('\n');
      expect(lines[0]).toBe('verify: client client sends 3 request(s) to each of 2 service(s); ARP checks for 2 VIP(s)');
      expect(lines.filter((line) => line.startsWith('verify: service ')).map((line) => line.replace(/ in \d+\.\d s.*/, ''))).toEqual([
        'verify: service web: 3 of 3 answered',
        'verify: service slow: 0 of 3 answered',
      ]);
      expect(lines.filter((line) => line.startsWith('verify: ARP ')).sort()).toEqual([
        `verify: ARP ${VIP}: pass (answered by director)`,
        `verify: ARP ${slowVip}: fail`,
      ]);
      // stdout is the report and nothing else.
      expect(report(result).services.map((service) => [service.name, service.answered])).toEqual([
        ['web', 3],
        ['slow', 0],
      ]);
    } finally {
      await sh('router', `ip route del blackhole ${slowVip}/32`);
    }
  });

  it('needs a host in group clients (or --client) and contacts nobody without one', async () => {
    const noClients = verifyInventory(lab);
    delete (noClients.groups as Record<string, unknown>).clients;
    const file = writeInventory(dir, 'inventory-no-clients.yaml', noClients);
    const result = await verify(file);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/inventory-no-clients\.yaml:\d+:\d+: groups: verify needs a host that sends the requests: put one in group `clients`/);
    expect(result.stderr).toContain('no host was contacted');

    await splitOneToTwo();
    const chosen = report(await verify(file, ...requests, '--client', 'client', '--json'));
    expect([chosen.client, chosen.exitCode]).toEqual(['client', 0]);
  });

  // Last: it leaves memcached and PHP on the real servers.
  it('with lvs.sessions, one user keeps one session through the VIP across rs1 and rs2; with every store down verify fails naming the failed requests', async () => {
    const withSessions = verifyInventory(lab);
    (withSessions.lvs as Record<string, unknown>).sessions = { hosts: ['rs1', 'rs2'] };
    const file = writeInventory(dir, 'inventory-sessions.yaml', withSessions);
    const applied = await runCli(['apply', '-i', file, '--limit', 'routers,realservers,clients'], { namespace: lab.controlNamespace });
    expect(applied.code, `${applied.stdout}\n${applied.stderr}`).toBe(0);

    await splitOneToTwo();
    const json = report(await verify(file, '--requests', '6', '--json'));
    expect(json.exitCode, JSON.stringify(json.failures)).toBe(0);
    expect(json.sessions.map((check) => [check.service, check.status, check.counts, check.servers])).toEqual([
      // The router's 1:2 rotation, after the six requests of the split (which end on its first step).
      ['web', 'pass', [1, 2, 3, 4, 5, 6], { rs1: 2, rs2: 4 }],
    ]);

    for (const store of ['rs1', 'rs2']) await sh(store, '/etc/init.d/memcached stop >/dev/null');
    try {
      await splitOneToTwo();
      const lost = await verify(file, '--requests', '3');
      expect(lost.code, lost.stdout).toBe(5);
      expect(lost.stdout).toMatch(/^session web {2}http:\/\/198\.51\.100\.50:80\/cgi-bin\/session\.php {2}FAIL$/m);
      // PHP cannot open the session without a store: the page fails (HTTP 500), and verify says so.
      expect(lost.stdout).toContain('! request 1 got no session page: curl exit 22 (HTTP error status)');
    } finally {
      for (const store of ['rs1', 'rs2']) await sh(store, '/etc/init.d/memcached start >/dev/null');
    }
  });
});
