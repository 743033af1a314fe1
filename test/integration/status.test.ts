import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionCounts } from '../../bench/src/sshd-log.js';
import { SshdLogs } from '../../bench/src/sshd-logs.js';
import { createLab, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import type { StatusReport } from '../../src/status/report.js';
import { runCli, startCli } from '../support/cli.js';
import { drInventory, drLabSpec, writeInventory } from '../support/dr-lab.js';

// `lvsprov status` on real sshd hosts: drift per host from the same read and plan as apply, one
// connection and one read per host per refresh (counted by lvsprov's transport and by each
// host's own sshd log), and a director whose kernel has no IPVS reported as such, never as an
// empty table. (This machine's kernel lacks IPVS; test/e2e reads a live table under qemu.)

const availability = labAvailability();

describe.skipIf(skipLabSuite(availability))(`status on real sshd hosts (${availability.reason})`, () => {
  let lab: Lab;
  let dir: string;
  let inventory: string;
  let logs: SshdLogs;

  const names = ['router', 'director', 'rs1', 'rs2'];
  /** What each sshd logs: one connection, one session and one exec request, however many reads. */
  const oneShell: SessionCounts = { connections: 1, logins: 1, sessions: 1, execs: 1 };

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-status-'));
    const spec = drLabSpec('itst');
    lab = await createLab({ ...spec, hosts: [...spec.hosts, { name: 'director', interfaces: [{ subnet: 'lan', address: '192.0.2.10' }] }] }, join(dir, 'lab'));
    logs = await SshdLogs.enable(lab);
    inventory = writeInventory(dir, 'inventory.yaml', drInventory(lab));
  });

  afterAll(async () => {
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('reports drift per host, and a director without IPVS as unreadable (exit 2), in one connection and one read per host', async () => {
    const mark = await logs.mark();
    const result = await runCli(['status', '-i', inventory, '--json'], { namespace: lab.controlNamespace });
    const report = JSON.parse(result.stdout) as StatusReport;
    expect(result.code, result.stderr).toBe(2);
    expect(report.hosts.map((host) => [host.host, host.reachable, host.stats])).toEqual(names.map((name) => [name, true, { connections: 1, channels: 1, execs: 1 }]));
    expect(new Map([...(await logs.since(mark))].filter(([host]) => names.includes(host)))).toEqual(new Map(names.map((name) => [name, oneShell])));
    // Fresh hosts: everything the site playbook would do is pending.
    const router = report.hosts.find((host) => host.host === 'router');
    expect(router?.drift?.state).toBe('drift');
    expect(router?.drift?.changes.map((change) => change.summary)).toContain('set net.ipv4.ip_forward 0 -> 1');
    const director = report.hosts.find((host) => host.host === 'director');
    expect(director?.drift?.state).toBe('unknown');
    expect(director?.director?.table).toBe('unreadable');
    expect(director?.director?.tableError).toMatch(/^no \/proc\/net\/ip_vs: the ip_vs module is not loaded/);
    expect(director?.director?.vips).toEqual([{ name: 'web', address: '198.51.100.50', held: false }]);
    expect(director?.director?.services[0]?.servers.map((server) => [server.host, server.state])).toEqual([['rs1', 'absent'], ['rs2', 'absent']]);
  }, 120_000);

  it('--graph draws the live state: a director without a readable table leaves every declared link absent', async () => {
    const result = await runCli(['status', '-i', inventory, '--graph', '--format', 'dot'], { namespace: lab.controlNamespace });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toContain('<b>live state</b>');
    expect(result.stdout).toContain('"service:0:0" -> "rs:192.0.2.11" [label="w 2", color="#d03b3b", style=dashed];');
    expect(result.stdout).toContain('"service:0:0" -> "rs:192.0.2.12" [label="w 4", color="#d03b3b", style=dashed];');
  }, 120_000);

  it('--watch holds one connection per host and reads once per refresh; an apply shows up as in sync', async () => {
    const apply = await runCli(['apply', '-i', inventory, '--limit', 'routers,realservers'], { namespace: lab.controlNamespace });
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const mark = await logs.mark();
    const result = await runCli(['status', '-i', inventory, '--limit', 'routers,realservers', '--json', '--watch', '1', '--count', '3'], { namespace: lab.controlNamespace });
    expect(result.code, result.stderr).toBe(0);
    const refreshes = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as StatusReport);
    expect(refreshes).toHaveLength(3);
    const watched = ['router', 'rs1', 'rs2'];
    refreshes.forEach((report, index) => {
      expect(report.hosts.map((host) => [host.host, host.drift?.state, host.stats])).toEqual(watched.map((name) => [name, 'in-sync', { connections: 1, channels: 1, execs: index + 1 }]));
    });
    expect(new Map([...(await logs.since(mark))].filter(([host]) => watched.includes(host)))).toEqual(new Map(watched.map((name) => [name, oneShell])));
    expect((await logs.since(mark)).get('director')?.connections ?? 0).toBe(0);
  }, 180_000);

  it('--watch shows a hand change made between two refreshes (a host that read the same keeps its drift, one that changed is planned again)', async () => {
    const watch = startCli(['status', '-i', inventory, '--limit', 'rs1,rs2', '--json', '--watch', '2', '--count', '3'], { namespace: lab.controlNamespace });
    const started = Date.now();
    while (!watch.output().stdout.includes('\n')) {
      if (Date.now() - started > 60_000) throw new Error(`no refresh printed: ${watch.output().stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    try {
      const changed = await lab.exec('rs1', ['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=0']);
      expect(changed.code, changed.stderr).toBe(0);
      const result = await watch.done;
      expect(result.code, result.stderr).toBe(0);
      const refreshes = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as StatusReport);
      const states = refreshes.map((report) => report.hosts.map((host) => [host.host, host.drift?.state]));
      expect(states[0]).toEqual([['rs1', 'in-sync'], ['rs2', 'in-sync']]);
      expect(states.at(-1)).toEqual([['rs1', 'drift'], ['rs2', 'in-sync']]);
      expect(refreshes.at(-1)?.hosts[0]?.drift?.changes.map((change) => change.summary)).toContain('set net.ipv4.conf.all.arp_ignore 0 -> 1');
    } finally {
      await lab.exec('rs1', ['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1']);
    }
  }, 120_000);

  it('--watch without --count ends once its output has no reader (`status --watch 1 | head`)', async () => {
    const watch = startCli(['status', '-i', inventory, '--limit', 'routers,realservers', '--json', '--watch', '1'], { namespace: lab.controlNamespace });
    const firstRefresh = Date.now();
    while (!watch.output().stdout.includes('\n')) {
      if (Date.now() - firstRefresh > 60_000) throw new Error(`no refresh printed: ${watch.output().stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    watch.child.stdout?.destroy();
    // The next refresh's line fails; the watch stops there, as after an interrupt.
    const ended = await Promise.race([watch.done, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 20_000))]);
    if (ended === 'still running') watch.child.kill('SIGINT');
    expect(ended === 'still running' ? ended : ended.code, watch.output().stderr).toBe(0);
  }, 120_000);
});
