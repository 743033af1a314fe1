import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lvsprovInventory, writeYaml } from '../../bench/src/inventories.js';
import { lvsprovPlaybook } from '../../bench/src/lvsprov-contender.js';
import { sessionsClosedBeforeDisconnect, type SessionCounts } from '../../bench/src/sshd-log.js';
import { SshdLogs } from '../../bench/src/sshd-logs.js';
import { createLab, flatLabSpec, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli, type JsonHost } from '../support/cli.js';
import { labSh } from '../support/lab-sh.js';

// The round trips per host are the product's performance contract: one connection, one read
// exec, one apply exec only when something changes, every script sent to one shell on one channel.
// Counted twice: by lvsprov's transport (its --json stats) and by each host's sshd in its own
// VERBOSE log, which shares nothing with lvsprov: one session and one exec request per host.

const availability = labAvailability();
// More than ten: a run's hosts share its interrupt signals, and node warns of a listener leak
// past ten listeners on one (runCli fails any run that prints such a warning).
const hostCount = 12;

describe.skipIf(skipLabSuite(availability))(`round trips per host on real sshd (${availability.reason})`, () => {
  let lab: Lab;
  let dir: string;
  let inventory: string;
  let logs: SshdLogs;

  const sh = (host: string, script: string): Promise<string> => labSh(lab, host, script);

  /** Run lvsprov in the control namespace; return its per-host results and what each sshd saw. */
  const apply = async (...args: string[]): Promise<{ hosts: JsonHost[]; server: Map<string, SessionCounts>; closedFirst: number[]; code: number }> => {
    const mark = await logs.mark();
    const result = await runCli(['apply', '-i', inventory, '-p', lvsprovPlaybook, '--json', ...args], { namespace: lab.controlNamespace });
    const json = parseJson(result);
    const text = await logs.textSince(mark);
    return { hosts: json.hosts, server: await logs.since(mark), closedFirst: names().map((name) => sessionsClosedBeforeDisconnect(text.get(name) ?? '')), code: result.code };
  };

  const names = (): string[] => lab.hosts.map((host) => host.name);
  const serverView = (server: Map<string, SessionCounts>): Array<[string, SessionCounts | undefined]> => names().map((name) => [name, server.get(name)]);
  const oneShell: SessionCounts = { connections: 1, logins: 1, sessions: 1, execs: 1 };

  beforeAll(async () => {
    if (!availability.ok) throw new Error(`the netns lab is unavailable in CI: ${availability.reason}`);
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-round-trips-'));
    lab = await createLab(flatLabSpec('itrt', hostCount), join(dir, 'lab'));
    logs = await SshdLogs.enable(lab);
    inventory = await writeYaml(dir, 'inventory.yaml', lvsprovInventory(lab));
  });

  afterAll(async () => {
    const report = await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
    expect(report?.leftovers ?? []).toEqual([]);
  });

  it('fresh apply: one connection, one read and one apply exec per host, both through one shell', async () => {
    const run = await apply();
    expect(run.code).toBe(0);
    expect(run.hosts.map((host) => [host.host, host.status, host.stats])).toEqual(names().map((name) => [name, 'changed', { connections: 1, channels: 1, execs: 2 }]));
    expect(run.hosts.every((host) => host.changes.length > 0)).toBe(true);
    expect(serverView(run.server)).toEqual(names().map((name) => [name, oneShell]));
    // The shell ended before the connection did: sshd reaped it (and what it ran), as an OpenSSH
    // client's session ends, rather than leaving it to the host's init.
    expect(run.closedFirst).toEqual(names().map(() => 1));
    // The apply really happened: read back through nsenter, not through lvsprov.
    expect((await sh('h1', 'sysctl -n net.ipv4.conf.lo.arp_announce')).trim()).toBe('2');
  });

  it('unchanged re-run: one connection, one read exec, no apply', async () => {
    const run = await apply();
    expect(run.code).toBe(0);
    expect(run.hosts.map((host) => [host.host, host.status, host.changes.length, host.stats])).toEqual(
      names().map((name) => [name, 'ok', 0, { connections: 1, channels: 1, execs: 1 }]),
    );
    expect(serverView(run.server)).toEqual(names().map((name) => [name, oneShell]));
    // A host with nothing to change lets its connection go right after its read: its shell too first.
    expect(run.closedFirst).toEqual(names().map(() => 1));
  });

  it('--check with pending changes: one connection, one read exec, nothing applied', async () => {
    await Promise.all(names().map((name) => sh(name, 'sysctl -q -w net.ipv4.conf.all.arp_ignore=0')));
    const run = await apply('--check');
    expect(run.code).toBe(0);
    expect(run.hosts.map((host) => [host.host, host.status, host.changes.length, host.stats])).toEqual(
      names().map((name) => [name, 'changed', 1, { connections: 1, channels: 1, execs: 1 }]),
    );
    expect(serverView(run.server)).toEqual(names().map((name) => [name, oneShell]));
    for (const name of names()) expect((await sh(name, 'sysctl -n net.ipv4.conf.all.arp_ignore')).trim()).toBe('0');

    // The drift is still there for a real apply to repair, in one read and one apply exec.
    const repair = await apply();
    expect(repair.hosts.map((host) => [host.host, host.status, host.changes.length, host.stats])).toEqual(
      names().map((name) => [name, 'changed', 1, { connections: 1, channels: 1, execs: 2 }]),
    );
    expect(serverView(repair.server)).toEqual(names().map((name) => [name, oneShell]));
  });

  it('status: one connection and one read exec per host, drift included', async () => {
    await sh('h1', 'sysctl -q -w net.ipv4.conf.all.arp_ignore=0');
    const mark = await logs.mark();
    // --limit: the bench inventory names a director no host of this lab plays (status would
    // otherwise read it too, as every director of a service, and find it unreachable).
    const result = await runCli(['status', '-i', inventory, '-p', lvsprovPlaybook, '--limit', names().join(','), '--json'], { namespace: lab.controlNamespace });
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { hosts: Array<{ host: string; drift?: { state: string }; stats: { connections: number; execs: number } }> };
    expect(report.hosts.map((host) => [host.host, host.drift?.state, host.stats])).toEqual(
      names().map((name) => [name, name === 'h1' ? 'drift' : 'in-sync', { connections: 1, channels: 1, execs: 1 }]),
    );
    expect(serverView(await logs.since(mark))).toEqual(names().map((name) => [name, oneShell]));
  });
});
