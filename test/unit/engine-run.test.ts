import { describe, expect, it } from 'vitest';
import type { CompiledTask } from '../../src/config/compile.js';
import type { EngineEvent, HostResult } from '../../src/engine/events.js';
import { runWaves, type WaveOptions } from '../../src/engine/run.js';
import { resourceTypes } from '../../src/resources/registry.js';
import { keepalivedConfig } from '../../src/resources/keepalived/config-text.js';
import { keepalivedSchema, type KeepalivedSpec } from '../../src/resources/keepalived/schema.js';
import { fakeConnect, type ExecRecord, type FakeHost } from '../support/fake-session.js';
import { IPV4_ADDRESSES_PROBE } from '../../src/resources/ipv4-addresses.js';

// The engine's contract, with fake sessions (no I/O): how many execs each host costs, in which
// order hosts and waves run, what a failing or throwing host does to the others, and where the
// applied counts come from. The real-host suites prove the same on sshd and a real kernel.

const task = (name: string, type: CompiledTask['type'], spec: unknown): CompiledTask => ({ name, type, spec: resourceTypes[type].schema.parse(spec) });
const page = (host: string): CompiledTask => task('test page', 'file', { path: '/var/www/index.html', content: `${host}\n` });
const pageProbe = (host: string) => (probe: string): string => (probe.includes('index.html') ? `F 644 ${Buffer.from(`${host}\n`).toString('base64')}` : '');

const VIP = '198.51.100.50';
const rip = (n: number): string => `192.0.2.1${n}`;
const pool = (servers: number[]): CompiledTask =>
  task('IPVS virtual services', 'ipvs', {
    services: [{ protocol: 'tcp', address: VIP, port: 80, scheduler: 'wrr', real_servers: servers.map((n) => ({ address: rip(n), forwarding: 'dr' })) }],
  });
/** The director's ipvs probe output for a table holding these servers, save files absent. */
const table = (servers: number[]) => (probe: string): string =>
  probe.includes('ipvsadm -S -n')
    ? [`S -A -t ${VIP}:80 -s wrr`, ...servers.map((n) => `S -a -t ${VIP}:80 -r ${rip(n)}:80 -g -w 1`), 'I 0', 'O ID=debian', 'F-', 'F-'].join('\n')
    : '';

const realServers = new Map([1, 2, 3, 4].map((n) => [rip(n), `rs${n}`]));

interface Case {
  readonly tasks: Record<string, CompiledTask[]>;
  readonly hosts: Record<string, FakeHost>;
  readonly options?: Partial<WaveOptions>;
  /** The inventory's real servers by address; default rs1-rs4. */
  readonly realServers?: ReadonlyMap<string, string>;
  readonly hostAddresses?: ReadonlyMap<string, string>;
  readonly vrrpAddresses?: ReadonlyMap<string, string>;
  /** Hosts of the inventory no play reaches and --limit leaves in. */
  readonly unplayed?: ReadonlySet<string>;
  /** The directors the inventory gives each VIP. */
  readonly vipDirectors?: ReadonlyMap<string, readonly string[]>;
}

async function run({ tasks, hosts, options, ...inventory }: Case) {
  const log: ExecRecord[] = [];
  const events: EngineEvent[] = [];
  // Every host already records what its tasks own (an earlier apply), unless the case says otherwise.
  const owned = Object.fromEntries(Object.entries(hosts).map(([host, behaviour]) => [host, { owned: tasks[host] ?? [], ...behaviour }]));
  const { connect, sessions } = fakeConnect(owned, log);
  const summary = await runWaves({ hosts: new Map(Object.entries(tasks)), realServers: inventory.realServers ?? realServers, ...(inventory.hostAddresses ? { hostAddresses: inventory.hostAddresses } : {}), ...(inventory.vrrpAddresses ? { vrrpAddresses: inventory.vrrpAddresses } : {}), ...(inventory.unplayed ? { unplayed: inventory.unplayed } : {}), ...(inventory.vipDirectors ? { vipDirectors: inventory.vipDirectors } : {}) }, connect, { check: false, forks: 20, ...options }, (event) => events.push(event));
  const result = (host: string): HostResult => summary.results.find((entry) => entry.host === host) as HostResult;
  const execs = (host: string): string[] => log.filter((entry) => entry.host === host).map((entry) => entry.kind);
  return { summary, log, events, sessions, result, execs };
}

/** rs3 joins the pool of rs1 and rs2: its page is new, the director adds it. */
const joining: Case = {
  tasks: { director: [pool([1, 2, 3])], rs1: [page('rs1')], rs2: [page('rs2')], rs3: [page('rs3')] },
  hosts: { director: { read: table([1, 2]) }, rs1: { read: pageProbe('rs1') }, rs2: { read: pageProbe('rs2') }, rs3: {} },
};

/** rs3 leaves the pool: quiesced, drained, deleted. */
const leaving: Case = {
  tasks: { director: [pool([1, 2])], rs1: [page('rs1')], rs2: [page('rs2')] },
  hosts: { director: { read: table([1, 2, 3]) }, rs1: { read: pageProbe('rs1') }, rs2: { read: pageProbe('rs2') } },
};

describe('engine: round trips', () => {
  it('lets a host with nothing to change go as soon as it is read, not once every host is', async () => {
    const log: ExecRecord[] = [];
    const closedWhenRs3Read: string[] = [];
    const hosts: Record<string, FakeHost> = {
      director: { read: table([1, 2]) },
      rs1: { read: pageProbe('rs1') },
      rs2: { read: pageProbe('rs2') },
      rs3: { onExec: (kind) => kind === 'read' && closedWhenRs3Read.push(...[...sessions].filter(([, session]) => session.closed).map(([host]) => host)) },
    };
    const owned = Object.fromEntries(Object.entries(hosts).map(([host, behaviour]) => [host, { owned: joining.tasks[host] ?? [], ...behaviour }]));
    const { connect, sessions } = fakeConnect(owned, log);
    const lock = { owner: { run: 'r1', control: 'ctl', pid: 1, started: '2026-12-01T00:00:00Z', age: 1 }, timeoutSeconds: 5 };
    const summary = await runWaves({ hosts: new Map(Object.entries(joining.tasks)), realServers }, connect, { check: false, forks: 1, lock }, () => undefined);
    // Read in order with one fork: rs1 and rs2 (unchanged) are closed before rs3 is read; the
    // director (it adds rs3) stays for its wave.
    expect(closedWhenRs3Read).toEqual(['rs1', 'rs2']);
    expect(summary.results.map((result) => [result.host, result.status, result.stats.execs])).toEqual([
      ['director', 'changed', 2],
      ['rs1', 'ok', 1],
      ['rs2', 'ok', 1],
      ['rs3', 'changed', 2],
    ]);
    expect([...sessions.values()].every((session) => session.closed)).toBe(true);
  });

  it('--check reads each host once and never makes a second exec', async () => {
    const { summary, log, sessions } = await run({ ...joining, options: { check: true } });
    expect(log.map((entry) => [entry.host, entry.kind])).toEqual(['director', 'rs1', 'rs2', 'rs3'].map((host) => [host, 'read']));
    expect(summary.results.map((result) => [result.host, result.status, result.applied, result.stats.execs])).toEqual([
      ['director', 'changed', 0, 1],
      ['rs1', 'ok', 0, 1],
      ['rs2', 'ok', 0, 1],
      ['rs3', 'changed', 0, 1],
    ]);
    expect([...sessions.values()].every((session) => session.closed)).toBe(true);
    // The plan still shows the waves it would run.
    expect(summary.plan.waves.map((wave) => [wave.phase, wave.hosts.map((entry) => entry.host)])).toEqual([
      ['prepare', ['rs3']],
      ['balance', ['director']],
    ]);
  });

  it('an unchanged host costs one exec; a changed host one per wave it takes part in', async () => {
    const { execs, result } = await run(joining);
    expect(execs('rs1')).toEqual(['read']);
    expect(execs('rs3')).toEqual(['read', 'apply']);
    expect(execs('director')).toEqual(['read', 'apply']);
    expect(result('rs1').status).toBe('ok');
    expect([result('rs3').status, result('rs3').applied]).toEqual(['changed', 1]);
  });

  it('a director with a leaving server: read, balance, one drain poll, withdraw', async () => {
    const { execs, log, result } = await run(leaving);
    expect(execs('director')).toEqual(['read', 'apply', 'drain', 'apply']);
    const director = log.filter((entry) => entry.host === 'director');
    expect(director[1]?.sections).toEqual([`ipvsadm -e -t ${VIP}:80 -r ${rip(3)}:80 -g -w 0`]);
    expect(director[2]?.sections).toEqual([`-t ${VIP}:80`]);
    expect(director[3]?.sections[0]).toBe(`ipvsadm -d -t ${VIP}:80 -r ${rip(3)}:80`);
    expect(result('director').drains).toEqual([{ service: ['-t', `${VIP}:80`], server: `${rip(3)}:80`, address: rip(3), vip: VIP, active: 0, drained: true, seconds: 0 }]);
    expect([result('director').status, result('director').applied, result('director').stats.execs]).toEqual(['changed', 3, 4]);
  });

  it('a service removed after an earlier apply quiesced its servers: no balance exec, a drain poll, then the withdraw', async () => {
    // The inventory no longer has the service: the director's manifest records it, and pruning removes it.
    const quiesced = (probe: string): string => table([1, 2])(probe).replaceAll('-g -w 1', '-g -w 0');
    const { execs, log, result } = await run({ tasks: { director: [] }, hosts: { director: { read: quiesced, owned: [pool([1, 2])] } } });
    expect(execs('director')).toEqual(['read', 'drain', 'apply']);
    expect(log.filter((entry) => entry.host === 'director')[1]?.sections).toEqual([`-t ${VIP}:80`, `-t ${VIP}:80`]);
    expect(result('director').drains?.map((drain) => drain.server)).toEqual([`${rip(1)}:80`, `${rip(2)}:80`]);
  });

  it('--drain-timeout 0 waits for nothing: one look counts the connections the withdraw then cuts, as a timed-out drain reports them', async () => {
    const { execs, log, result } = await run({ ...leaving, options: { drainTimeout: 0 }, hosts: { ...leaving.hosts, director: { read: table([1, 2, 3]), drain: (count) => `timeout 0 1 ${Array(count).fill(3).join(' ')}` } } });
    expect(execs('director')).toEqual(['read', 'apply', 'drain', 'apply']);
    const drain = log.find((entry) => entry.kind === 'drain');
    expect(drain?.sections).toEqual([`-t ${VIP}:80`]);
    expect(result('director').drains?.map((entry) => [entry.server, entry.drained, entry.active, entry.seconds])).toEqual([[`${rip(3)}:80`, false, 3, 0]]);
  });

  it('a real server switched from DR to TUN: the director lists its DR connections as it switches, and drains those before the real server drops its DR setup', async () => {
    const forwarding = (method: 'dr' | 'tun'): CompiledTask =>
      task('IPVS virtual services', 'ipvs', { services: [{ protocol: 'tcp', address: VIP, port: 80, scheduler: 'wrr', real_servers: [{ address: rip(1), forwarding: 'dr' }, { address: rip(2), forwarding: method }] }] });
    const onLo = task('VIP on lo', 'address', { address: VIP, prefix: 32, device: 'lo' });
    const onTunnel = task('VIP on tunl0', 'address', { address: VIP, prefix: 32, device: 'tunl0' });
    const listed = `bound 203.0.113.100:41234 ${VIP}:80 ${rip(2)}:80\nbound 203.0.113.100:41300 ${VIP}:80 ${rip(2)}:80`;
    const director: FakeHost = { read: table([1, 2]), output: (commands) => (commands.includes(`ipvsadm -e -t ${VIP}:80 -r ${rip(2)}:80 -i`) ? listed : '') };
    // The one read of every device's addresses: rs2 has lo with the VIP, and eth0 (no tunl0 yet).
    const rs2Read = (probe: string): string => (probe === IPV4_ADDRESSES_PROBE ? `lvsprov-device eth0\nlvsprov-device lo\n1: lo    inet ${VIP}/32 scope global lo\\       valid_lft forever preferred_lft forever` : '');
    const switched: Case = { tasks: { director: [forwarding('tun')], rs2: [onTunnel] }, hosts: { director, rs2: { read: rs2Read, owned: [onLo] } } };
    const { log, result, summary } = await run(switched);
    const order = log.filter((entry) => entry.kind !== 'read').map((entry) => `${entry.host} ${entry.kind}`);
    // The second director apply is the withdraw wave's: the next-hop pin of the switch goes (next-hop-pin.ts).
    expect(order).toEqual(['rs2 apply', 'director apply', 'director drain', 'director apply', 'rs2 apply']);
    expect(log.find((entry) => entry.kind === 'drain')?.sections).toEqual([`bound 0 203.0.113.100:41234 ${VIP}:80 ${rip(2)}:80, 0 203.0.113.100:41300 ${VIP}:80 ${rip(2)}:80`]);
    expect(result('director').drains?.map((entry) => [entry.server, entry.drained])).toEqual([[`${rip(2)}:80`, true]]);
    expect(summary.plan.drains.map((drain) => [drain.host, drain.switched?.map((entry) => [entry.server.server, entry.from, entry.to])])).toEqual([['director', [[`${rip(2)}:80`, 'dr', 'tun']]]]);
    // Nothing deletes it.
    expect(log.some((entry) => entry.sections.some((section) => section.includes('ipvsadm -d')))).toBe(false);

    // A director that failed before that drain holds the real server's retire back.
    const failed = await run({ ...switched, hosts: { ...switched.hosts, director: { ...director, drain: () => 'ipvsadm: not found' } } });
    expect(failed.result('director').status).toBe('failed');
    expect(failed.execs('rs2')).toEqual(['read', 'apply']);
    expect(failed.result('rs2').heldBack).toEqual([expect.objectContaining({ phase: 'retire', reason: `director director failed before it drained the connections it made to ${rip(2)} by its old forwarding method` })]);
  });

  it('a drain that times out is reported with the connections the deletion cut, and the withdraw runs', async () => {
    const { execs, result } = await run({ ...leaving, hosts: { ...leaving.hosts, director: { read: table([1, 2, 3]), drain: () => 'timeout 300 301 2' } } });
    expect(execs('director')).toEqual(['read', 'apply', 'drain', 'apply']);
    expect(result('director').drains?.map((drain) => [drain.server, drain.drained, drain.active, drain.seconds])).toEqual([[`${rip(3)}:80`, false, 2, 300]]);
    expect(result('director').status).toBe('changed');
  });

  it('a server set to weight 0 whose web server restarts in retire: the director drains it after balance and keeps it, then the restart runs; a timeout says what the restart cut', async () => {
    const weights = (w2: number): CompiledTask =>
      task('IPVS virtual services', 'ipvs', { services: [{ protocol: 'tcp', address: VIP, port: 80, scheduler: 'wrr', real_servers: [{ address: rip(1), forwarding: 'dr' }, { address: rip(2), forwarding: 'dr', weight: w2 }] }] });
    const web = (port: number): CompiledTask => task('web server', 'service', { name: 'lvsprov-web', exec: ['/usr/bin/busybox', 'httpd', '-f', '-p', `${rip(2)}:${port}`, '-h', '/var/www'], pool: 'quiesced' });
    // The daemon runs, started by lvsprov with port 80: its recorded argv differs from the declared one.
    const running = (probe: string): string => (probe.includes('lvsprov-lvsprov-web') ? `D none\nP 0\nr /usr/bin/busybox httpd -f -p ${rip(2)}:80 -h /var/www` : '');
    const restart: Case = {
      tasks: { director: [weights(0)], rs2: [web(8080)] },
      hosts: { director: { read: table([1, 2]) }, rs2: { read: running, owned: [web(80)] } },
    };
    const { execs, log, result, summary } = await run(restart);
    expect(execs('director')).toEqual(['read', 'apply', 'drain']);
    expect(execs('rs2')).toEqual(['read', 'apply']);
    const order = log.filter((entry) => entry.kind !== 'read').map((entry) => `${entry.host} ${entry.kind}`);
    expect(order).toEqual(['director apply', 'director drain', 'rs2 apply']);
    // The weight-0 edit is the director's last change of balance, as a quiesce is (after its save file).
    expect(log.find((entry) => entry.host === 'director' && entry.kind === 'apply')?.sections.at(-1)).toBe(`ipvsadm -e -t ${VIP}:80 -r ${rip(2)}:80 -g -w 0`);
    expect(log.find((entry) => entry.kind === 'drain')?.sections).toEqual([`-t ${VIP}:80`]);
    expect(result('director').drains?.map((drain) => [drain.server, drain.drained])).toEqual([[`${rip(2)}:80`, true]]);
    // Nothing deletes it: the director's only apply is balance.
    expect(log.some((entry) => entry.sections.some((section) => section.includes('ipvsadm -d')))).toBe(false);
    expect(summary.plan.drains.map((drain) => [drain.host, drain.kept?.map((entry) => [entry.server.server, entry.restarts])])).toEqual([['director', [[`${rip(2)}:80`, 'rs2']]]]);

    const timedOut = await run({ ...restart, hosts: { ...restart.hosts, director: { read: table([1, 2]), drain: () => 'timeout 300 301 4' } } });
    expect(timedOut.execs('rs2')).toEqual(['read', 'apply']);
    expect(timedOut.result('director').drains?.map((drain) => [drain.drained, drain.active])).toEqual([[false, 4]]);
    expect([timedOut.result('rs2').status, timedOut.result('rs2').applied]).toEqual(['changed', 1]);

    // A director that failed before the drain (its quiesce failed; the drain exec failed) holds the restart back.
    for (const director of [{ read: table([1, 2]), status: (commands: string) => (commands.startsWith('ipvsadm -e') ? 3 : 0) }, { read: table([1, 2]), drain: () => 'ipvsadm: not found' }]) {
      const failed = await run({ ...restart, hosts: { ...restart.hosts, director } });
      expect(failed.result('director').status).toBe('failed');
      expect(failed.execs('rs2')).toEqual(['read']);
      expect(failed.result('rs2').heldBack).toEqual([expect.objectContaining({ phase: 'retire', reason: `director director failed before it drained ${rip(2)}, which it keeps at weight 0, for the restart` })]);
    }

    // At weight 0 already: drained all the same before the restart; with nothing to restart, no drain.
    const atZero = (probe: string): string => table([1, 2])(probe).replace(`${rip(2)}:80 -g -w 1`, `${rip(2)}:80 -g -w 0`);
    const already = await run({ ...restart, hosts: { ...restart.hosts, director: { read: atZero } } });
    expect(already.log.filter((entry) => entry.kind === 'drain' || entry.host === 'rs2').map((entry) => `${entry.host} ${entry.kind}`)).toEqual(['rs2 read', 'director drain', 'rs2 apply']);
    // Its save file as the table: the director has nothing to change, and stays open for the drain alone.
    const rules = [`-A -t ${VIP}:80 -s wrr`, `-a -t ${VIP}:80 -r ${rip(1)}:80 -g -w 1`, `-a -t ${VIP}:80 -r ${rip(2)}:80 -g -w 0`].join('\n') + '\n';
    const settled = (probe: string): string => atZero(probe).replace('F-\nF-', `F-\nF 644 ${Buffer.from(rules).toString('base64')}`);
    const drainOnly = await run({ ...restart, hosts: { ...restart.hosts, director: { read: settled } } });
    expect([drainOnly.execs('director'), drainOnly.result('director').status, drainOnly.execs('rs2')]).toEqual([['read', 'drain'], 'ok', ['read', 'apply']]);
    const idle = await run({ tasks: { director: [weights(0)], rs2: [web(80)] }, hosts: { director: { read: settled }, rs2: { read: running, owned: [web(80)] } } });
    expect(idle.execs('director')).toEqual(['read']);
    expect(idle.execs('rs2')).toEqual(['read']);
  });

  it('a drain exec that fails fails the director before it deletes anything', async () => {
    const { execs, result } = await run({ ...leaving, hosts: { ...leaving.hosts, director: { read: table([1, 2, 3]), drain: () => 'ipvsadm: not found' } } });
    expect(execs('director')).toEqual(['read', 'apply', 'drain']);
    expect([result('director').status, result('director').applied, result('director').error?.message]).toEqual(['failed', 1, expect.stringContaining('draining 192.0.2.13:80 failed')]);
  });
});

describe('engine: wave order', () => {
  it('every prepare exec ends before any balance exec starts', async () => {
    const { log } = await run(joining);
    expect(log.filter((entry) => entry.kind === 'apply').map((entry) => entry.host)).toEqual(['rs3', 'director']);
  });

  it('reset: the director quiesces, drains and deletes before the real servers lose their state', async () => {
    const reset: Case = {
      tasks: { director: [pool([1, 2])], rs1: [page('rs1')], rs2: [page('rs2')] },
      hosts: { director: { read: table([1, 2]) }, rs1: { read: pageProbe('rs1') }, rs2: { read: pageProbe('rs2') } },
      options: { mode: 'reset' },
    };
    const { log, summary } = await run(reset);
    expect(log.filter((entry) => entry.kind !== 'read').map((entry) => [entry.host, entry.kind])).toEqual([
      ['director', 'apply'],
      ['director', 'drain'],
      ['director', 'apply'],
      ['rs1', 'apply'],
      ['rs2', 'apply'],
    ]);
    expect(summary.plan.waves.map((wave) => wave.phase)).toEqual(['balance', 'withdraw', 'retire']);
  });
});

describe('engine: failures stay with their host', () => {
  it('a real server that fails to prepare is not added by the director, which says why', async () => {
    const failing = { ...joining, hosts: { ...joining.hosts, rs3: { status: () => 1 } } };
    const { log, result } = await run(failing);
    expect([result('rs3').status, result('rs3').applied, result('rs3').error?.kind]).toEqual(['failed', 0, 'apply']);
    // The director's balance wave no longer adds rs3, and its save file does not list it.
    const balance = log.find((entry) => entry.host === 'director' && entry.kind === 'apply');
    expect(balance?.sections.join('\n')).not.toContain(rip(3));
    expect(result('director').heldBack).toEqual([
      expect.objectContaining({ summary: `add real server ${rip(3)}:80 (dr, weight 1) to TCP ${VIP}:80`, phase: 'balance', reason: expect.stringContaining('rs3') }),
    ]);
    expect(result('director').status).toBe('changed');
  });

  // Under keepalived a director's real servers are lines of its config: the config is written
  // without the one whose host failed to prepare, and the director says so.
  it('a director under keepalived does not write a real server whose host failed to prepare into its config', async () => {
    const service = (servers: number[]) => ({ protocol: 'tcp', address: VIP, port: 80, scheduler: 'rr', forwarding: 'dr', real_servers: servers.map((n) => ({ address: rip(n), port: 80, weight: 1 })) });
    const held = (servers: number[]): CompiledTask => task('keepalived holds the IPVS table', 'keepalived', { router_id: 'director', virtual_servers: [service(servers)] });
    const was = keepalivedConfig(keepalivedSchema.parse({ router_id: 'director', virtual_servers: [service([1, 2])] }));
    const running = (probe: string): string =>
      probe.includes('command -v keepalived') ? ['K 1', `F 644 ${Buffer.from(was).toString('base64')}`, 'R 1', 'M sysv', 'E enabled', 'T update-rc.d', 'I 0'].join('\n') : '';
    const keepalivedJoining: Case = {
      tasks: { director: [held([1, 2, 3, 4])], rs1: [page('rs1')], rs2: [page('rs2')], rs3: [page('rs3')], rs4: [page('rs4')] },
      hosts: { director: { read: running }, rs1: { read: pageProbe('rs1') }, rs2: { read: pageProbe('rs2') }, rs3: { status: () => 1 }, rs4: {} },
    };
    const { result } = await run(keepalivedJoining);
    expect(result('rs3').status).toBe('failed');
    const written = result('director').changes.flatMap((change) => (change.diff?.kind === 'file' ? [change.diff.after ?? ''] : []));
    expect(written.length).toBeGreaterThan(0);
    for (const text of written) {
      expect(text).toContain(`real_server ${rip(4)} 80`);
      expect(text).not.toContain(rip(3));
    }
    expect(result('director').heldBack).toEqual([expect.objectContaining({ summary: `new connections to real server ${rip(3)} (keepalived)`, phase: 'balance', reason: expect.stringContaining('rs3') })]);
  });

  // A keepalived pair's VIP given to other directors: the old pair's first config leaves it out
  // while a new director is live at balance, and keeps it through the drain once none is.
  it('a VIP moving to directors of another keepalived pair leaves the old one in balance, unless they failed before balance', async () => {
    const V51 = '198.51.100.51';
    const instance = (vips: string[]) => ({ name: 'VI_51', virtual_router_id: 51, interface: 'eth0', state: 'MASTER', priority: 150, unicast_src_ip: '192.0.2.10', unicast_peers: ['192.0.2.20'], vips: vips.map((address) => ({ address, device: 'eth0' })) });
    const service = (address: string) => ({ protocol: 'tcp', address, port: 80, scheduler: 'rr', forwarding: 'dr', real_servers: [1, 2].map((n) => ({ address: rip(n), port: 80, weight: 1 })) });
    const spec = (vips: string[]) => ({ instances: [instance(vips)], virtual_servers: vips.map(service) });
    const was = keepalivedConfig(keepalivedSchema.parse(spec([VIP, V51])));
    const running = (probe: string): string =>
      probe.includes('command -v keepalived')
        ? ['K 1', `F 644 ${Buffer.from(was).toString('base64')}`, 'R 1', 'M sysv', 'E enabled', 'T update-rc.d', ...[VIP, V51].flatMap((vip) => [`S -A -t ${vip}:80 -s rr`, ...[1, 2].map((n) => `S -a -t ${vip}:80 -r ${rip(n)}:80 -g -w 1`)]), 'I 0'].join('\n')
        : '';
    const moved = (dir3: FakeHost): Case => ({
      tasks: { dir1: [task('keepalived', 'keepalived', spec([VIP]))], dir3: [page('dir3')] },
      hosts: { dir1: { read: running }, dir3 },
      vipDirectors: new Map([
        [VIP, ['dir1', 'dir2']],
        [V51, ['dir3', 'dir4']],
      ]),
    });
    const balanceVips = async (dir3: FakeHost): Promise<string[]> => {
      const { result } = await run(moved(dir3));
      const first = result('dir1').changes.find((change) => change.diff?.kind === 'file' && change.phase === 'balance');
      return [...(first?.diff?.after ?? '').matchAll(/^ {8}(\S+)\/32 dev eth0/gm)].map((match) => match[1] ?? '');
    };
    expect(await balanceVips({})).toEqual([VIP]);
    expect(await balanceVips({ status: () => 1 })).toEqual([VIP, V51]);
  });

  // A server the director already has asks its host for more when it switches forwarding method
  // (the new method's VIP or routes) or goes from weight 0 to new connections: both wait for a
  // host that prepared.
  it("a switch of forwarding method and a weight raised from 0 wait while the real server's host failed to prepare", async () => {
    const servers = (second: { forwarding: 'dr' | 'tun'; weight: number }): CompiledTask =>
      task('IPVS virtual services', 'ipvs', { services: [{ protocol: 'tcp', address: VIP, port: 80, scheduler: 'wrr', real_servers: [{ address: rip(1), forwarding: 'dr' }, { address: rip(2), ...second }] }] });
    const was = (weight: number) => (probe: string): string =>
      probe.includes('ipvsadm -S -n') ? [`S -A -t ${VIP}:80 -s wrr`, `S -a -t ${VIP}:80 -r ${rip(1)}:80 -g -w 1`, `S -a -t ${VIP}:80 -r ${rip(2)}:80 -g -w ${weight}`, 'I 0', 'O ID=debian', 'F-', 'F-'].join('\n') : '';
    const onTunnel = task('VIP on tunl0', 'address', { address: VIP, prefix: 32, device: 'tunl0' });
    for (const { why, wanted, weight, held } of [
      { why: 'switch', wanted: { forwarding: 'tun' as const, weight: 1 }, weight: 1, held: `real server ${rip(2)}:80 forwarding dr -> tun in TCP ${VIP}:80` },
      { why: 'weight', wanted: { forwarding: 'dr' as const, weight: 2 }, weight: 0, held: `real server ${rip(2)}:80 weight 0 -> 2 in TCP ${VIP}:80` },
    ]) {
      const { log, result } = await run({ tasks: { director: [servers(wanted)], rs2: [onTunnel] }, hosts: { director: { read: was(weight) }, rs2: { status: () => 1 } } });
      expect(result('rs2').status, why).toBe('failed');
      expect(log.some((entry) => entry.host === 'director' && entry.sections.some((section) => section.includes(`-r ${rip(2)}:80`) && section.includes('ipvsadm -e'))), why).toBe(false);
      expect(result('director').heldBack, why).toEqual([expect.objectContaining({ summary: held, phase: 'balance', reason: expect.stringContaining('rs2') })]);
    }
  });

  it('under keepalived, a switch of the virtual server forwarding method puts a server whose host failed to prepare at weight 0', async () => {
    const service = (forwarding: 'nat' | 'dr') => ({ protocol: 'tcp', address: VIP, port: 80, scheduler: 'rr', forwarding, real_servers: [1, 2].map((n) => ({ address: rip(n), port: 80, weight: 1 })) });
    const was = keepalivedConfig(keepalivedSchema.parse({ router_id: 'director', virtual_servers: [service('nat')] }));
    const running = (probe: string): string =>
      probe.includes('command -v keepalived') ? ['K 1', `F 644 ${Buffer.from(was).toString('base64')}`, 'R 1', 'M sysv', 'E enabled', 'T update-rc.d', 'I 0'].join('\n') : '';
    const { result } = await run({
      tasks: { director: [task('keepalived holds the IPVS table', 'keepalived', { router_id: 'director', virtual_servers: [service('dr')] })], rs1: [page('rs1')], rs2: [page('rs2')] },
      hosts: { director: { read: running }, rs1: { read: pageProbe('rs1') }, rs2: { status: () => 1 } },
    });
    const written = result('director').changes.flatMap((change) => (change.diff?.kind === 'file' ? [change.diff.after ?? ''] : []));
    expect(written.at(-1)).toMatch(new RegExp(`lvs_method DR[\\s\\S]*real_server ${rip(1)} 80 \\{\\s*weight 1[\\s\\S]*real_server ${rip(2)} 80 \\{\\s*weight 0`));
    expect(result('director').heldBack).toEqual([expect.objectContaining({ summary: `new connections to real server ${rip(2)} (keepalived)`, reason: expect.stringContaining('rs2') })]);
  });

  it('an unreachable real server is held back too; a throwing exec fails only its host', async () => {
    const { result } = await run({ ...joining, hosts: { ...joining.hosts, rs3: { throwOn: 'connect' }, rs1: { read: pageProbe('rs1'), throwOn: 'read' } } });
    expect(result('rs3').status).toBe('unreachable');
    expect(result('rs1').status).toBe('failed');
    expect(result('rs1').error?.message).toContain('connection lost');
    expect(result('director').heldBack?.map((change) => change.summary)).toEqual([`add real server ${rip(3)}:80 (dr, weight 1) to TCP ${VIP}:80`]);
    expect(result('rs2').status).toBe('ok');
  });

  it('a director that fails to withdraw keeps the real servers it still sends to from retiring', async () => {
    const reset: Case = {
      tasks: { director: [pool([1, 2])], rs1: [page('rs1')], rs2: [page('rs2')] },
      hosts: { director: { read: table([1, 2]), status: (commands) => (commands.startsWith('ipvsadm -D') ? 3 : 0) }, rs1: { read: pageProbe('rs1') }, rs2: { read: pageProbe('rs2') } },
      options: { mode: 'reset' },
    };
    const { result, execs } = await run(reset);
    expect(result('director').status).toBe('failed');
    expect(execs('rs1')).toEqual(['read']);
    expect(result('rs1').heldBack).toEqual([expect.objectContaining({ phase: 'retire', reason: `director director failed before it withdrew ${rip(1)}` })]);
    expect(result('rs1').changes).toEqual([]);
  });

  it('a leaving server the inventory no longer lists keeps what it would prune while its director failed to withdraw it', async () => {
    // rs3 left the pool and the inventory's services: only its address tells the engine which host it is.
    const leavingPruned: Case = {
      tasks: { ...leaving.tasks, rs3: [] },
      hosts: {
        ...leaving.hosts,
        director: { read: table([1, 2, 3]), status: (commands) => (commands.startsWith('ipvsadm -d') ? 3 : 0) },
        rs3: { read: pageProbe('rs3'), owned: [page('rs3')] },
      },
      realServers: new Map([1, 2].map((n) => [rip(n), `rs${n}`])),
      hostAddresses: new Map([1, 2, 3].map((n) => [rip(n), `rs${n}`])),
    };
    const { result, execs } = await run(leavingPruned);
    expect(result('director').status).toBe('failed');
    expect(execs('rs3')).toEqual(['read']);
    expect(result('rs3').heldBack).toEqual([expect.objectContaining({ summary: 'remove /var/www/index.html', phase: 'retire', reason: `director director failed before it withdrew ${rip(3)}` })]);
    // Without the host addresses the engine could not tell, and rs3 would lose its state.
    const blind = await run({ ...leavingPruned, hostAddresses: new Map() });
    expect(blind.execs('rs3')).toEqual(['read', 'apply']);
  });

  it('applied counts come from the section statuses, also when the last change fails', async () => {
    // The director's balance wave: add rs3, then write the save file; the save file fails.
    const failing = { ...joining, hosts: { ...joining.hosts, director: { read: table([1, 2]), status: (commands: string) => (commands.includes('ipvsadm.rules') ? 1 : 0) } } };
    const { result } = await run(failing);
    expect(result('director').changes.map((change) => change.summary)).toEqual([`add real server ${rip(3)}:80 (dr, weight 1) to TCP ${VIP}:80`, 'create /etc/ipvsadm.rules']);
    expect([result('director').status, result('director').applied]).toEqual(['failed', 1]);
    expect(result('director').error?.message).toBe('create /etc/ipvsadm.rules failed (exit 1)');
  });

  it('a host that fails in one wave takes part in no later wave', async () => {
    const { execs, result } = await run({ ...leaving, hosts: { ...leaving.hosts, director: { read: table([1, 2, 3]), throwOn: 'apply' } } });
    expect(execs('director')).toEqual(['read', 'apply']);
    expect([result('director').status, result('director').applied]).toEqual(['failed', 0]);
  });

  it('a first interrupt during the drain stops the wait: servers stay quiesced, nothing is deleted, nothing retires', async () => {
    const interrupt = new AbortController();
    const reset: Case = {
      tasks: { director: [pool([1, 2])], rs1: [page('rs1')], rs2: [page('rs2')] },
      hosts: {
        director: { read: table([1, 2]), onExec: (kind) => kind === 'drain' && interrupt.abort() },
        rs1: { read: pageProbe('rs1') },
        rs2: { read: pageProbe('rs2') },
      },
      options: { mode: 'reset', interrupt: interrupt.signal },
    };
    const { result, execs } = await run(reset);
    expect(execs('director')).toEqual(['read', 'apply', 'drain']);
    expect([result('director').status, result('director').interrupted, result('director').applied]).toEqual(['interrupted', 'between-waves', 2]);
    expect(result('director').outcomes).toEqual(['made', 'made', 'not-made']);
    expect([execs('rs1'), result('rs1').status, result('rs1').interrupted]).toEqual([['read'], 'interrupted', 'before-apply']);
  });

  it('every host gets exactly one host-done event, and wave-start names the wave hosts', async () => {
    const { events } = await run(leaving);
    expect(events.filter((event) => event.type === 'host-done').map((event) => (event.type === 'host-done' ? event.result.host : '')).sort()).toEqual(['director', 'rs1', 'rs2']);
    expect(events.filter((event) => event.type === 'wave-start')).toEqual([
      { type: 'wave-start', phase: 'balance', hosts: ['director'] },
      { type: 'wave-start', phase: 'withdraw', hosts: ['director'] },
    ]);
  });
});

describe('engine: a director dropped from a VRRP group', () => {
  // dir1, dir2 and dir3 shared VRRP id 51; the inventory now leaves dir3 out. dir1's config without
  // dir3 is written in balance; dir3's keepalived, pruned, stops in prepare.
  const vrrp = (src: string, peers: string[]): CompiledTask =>
    task('VRRP for the VIPs', 'keepalived', {
      instances: [{ name: 'VI_51', virtual_router_id: 51, interface: 'eth0', state: 'BACKUP', priority: 100, unicast_src_ip: src, unicast_peers: peers, vips: [{ address: VIP, device: 'eth0' }] }],
    });
  const running = (config: CompiledTask) => (probe: string): string =>
    probe.includes('command -v keepalived')
      ? ['K 1', `F 644 ${Buffer.from(keepalivedConfig(config.spec as KeepalivedSpec)).toString('base64')}`, 'R 1', 'M sysv', 'E enabled', 'T update-rc.d', 'I 0'].join('\n')
      : '';
  const dir1Was = vrrp('192.0.2.10', ['192.0.2.20', '192.0.2.30']);
  const dir3Was = vrrp('192.0.2.30', ['192.0.2.10', '192.0.2.20']);
  const addresses = new Map([['192.0.2.10', 'dir1'], ['192.0.2.20', 'dir2'], ['192.0.2.30', 'dir3']]);
  const dropped = (dir3: FakeHost): Case => ({
    tasks: { dir1: [vrrp('192.0.2.10', ['192.0.2.20'])], dir3: [] },
    hosts: { dir1: { read: running(dir1Was), owned: [dir1Was] }, dir3: { read: running(dir3Was), owned: [dir3Was], ...dir3 } },
    vrrpAddresses: addresses,
  });

  it("dir3's keepalived stops in prepare, before dir1 reloads without it in balance", async () => {
    const { log, result } = await run(dropped({}));
    expect(result('dir3').changes.map((change) => [change.summary, change.phase])).toContainEqual(['stop keepalived (it removes its VIPs and virtual servers): where it is master of VI_51, its last advert (priority 0) hands the VIPs to the next priority within 1 s', 'prepare']);
    const applies = log.filter((entry) => entry.kind === 'apply').map((entry) => entry.host);
    expect(applies.indexOf('dir3')).toBeLessThan(applies.indexOf('dir1'));
    expect(result('dir1').status).toBe('changed');
  });

  it("dir3's stop fails: dir1 keeps advertising to it (its balance is held back), and says why", async () => {
    const { execs, result } = await run(dropped({ status: (commands) => (commands.includes('/etc/init.d/keepalived stop') ? 1 : 0) }));
    expect(result('dir3').status).toBe('failed');
    expect(execs('dir1')).toEqual(['read']);
    expect(result('dir1').heldBack).toEqual([
      expect.objectContaining({ phase: 'balance', reason: 'its VRRP peer dir3 (192.0.2.30) failed before its keepalived stopped, and would take the VIPs kept here' }),
    ]);
  });

  const lock = { owner: { run: 'r1', control: 'ctl', pid: 1, started: '2026-12-01T00:00:00Z', age: 1 }, timeoutSeconds: 5 };
  const page3 = page('dir3');

  it('dir3 is in the inventory and no play reaches it: the run opens it under its lock, stops its keepalived in prepare, before dir1 reloads, and touches nothing else there', async () => {
    const outside: Case = {
      ...dropped({}),
      tasks: { dir1: [vrrp('192.0.2.10', ['192.0.2.20'])] },
      hosts: { dir1: { read: running(dir1Was), owned: [dir1Was] }, dir3: { read: running(dir3Was), owned: [dir3Was, page3] } },
      unplayed: new Set(['dir3']),
      options: { lock },
    };
    const { log, result, execs } = await run(outside);
    expect(result('dir1').status).toBe('changed');
    expect(result('dir3').status).toBe('changed');
    expect(result('dir3').changes.map((change) => [change.summary, change.phase])).toEqual([
      ['stop keepalived (it removes its VIPs and virtual servers): where it is master of VI_51, its last advert (priority 0) hands the VIPs to the next priority within 1 s', 'prepare'],
      ['disable keepalived at boot', 'retire'],
      ['remove /etc/keepalived/keepalived.conf', 'retire'],
    ]);
    // The page another playbook made there stays, and stays on record (the manifest rides on the last change).
    const manifest = result('dir3').changes.at(-1)?.commands.join('\n') ?? '';
    expect(manifest).toMatch(/^file\tfile \/var\/www\/index\.html\t/m);
    expect(manifest).not.toMatch(/^keepalived\t/m);
    expect(result('dir3').changes.flatMap((change) => change.commands).join('\n')).not.toMatch(/rm .*index\.html/);
    // dir1 gave its lock back (an exec the fake counts as a read) and was read again with dir3's:
    // one lockAll takes every lock of the run, as wait-die needs.
    expect(execs('dir1')).toEqual(['read', 'read', 'read', 'apply']);
    expect(execs('dir3')).toEqual(['read', 'apply', 'apply']);
    const applies = log.filter((entry) => entry.kind === 'apply').map((entry) => entry.host);
    expect(applies.indexOf('dir3')).toBeLessThan(applies.indexOf('dir1'));
  });

  it("dir3 is in no play and lvsprov recorded no keepalived there: dir3 fails, and dir1 keeps advertising to it", async () => {
    const outside: Case = {
      ...dropped({}),
      tasks: { dir1: [vrrp('192.0.2.10', ['192.0.2.20'])] },
      hosts: { dir1: { read: running(dir1Was), owned: [dir1Was] }, dir3: { read: running(dir3Was), owned: [page3] } },
      unplayed: new Set(['dir3']),
    };
    const { result, execs } = await run(outside);
    expect(result('dir3').status).toBe('failed');
    expect(result('dir3').error?.message).toMatch(/lvsprov recorded no keepalived here, so it does not stop one: stop it yourself \(if it runs\) and apply with --stopped-peer/);
    expect(execs('dir3')).toEqual(['read']);
    expect(execs('dir1')).toEqual(['read']);
    expect(result('dir1').heldBack).toEqual([expect.objectContaining({ phase: 'balance', reason: 'its VRRP peer dir3 (192.0.2.30) failed before its keepalived stopped, and would take the VIPs kept here' })]);
  });

  it('dir3 is out of the run by --limit: dir1 is refused at its plan, naming the peer; --stopped-peer lets it go', async () => {
    const outside: Case = { ...dropped({}), tasks: { dir1: [vrrp('192.0.2.10', ['192.0.2.20'])] }, hosts: { dir1: { read: running(dir1Was), owned: [dir1Was] } }, unplayed: new Set() };
    const refused = await run(outside);
    expect(refused.execs('dir1')).toEqual(['read']);
    expect(refused.result('dir1').status).toBe('failed');
    expect(refused.result('dir1').error?.message).toMatch(/VRRP peer 192\.0\.2\.30 .*dir3 has it, but --limit leaves dir3 out of this run/);
    const stopped = await run({ ...outside, options: { stoppedPeers: ['192.0.2.30'] } });
    expect(stopped.execs('dir1')).toEqual(['read', 'apply']);
    expect(stopped.result('dir1').status).toBe('changed');
  });
});

describe('a live service switches between DR and NAT', () => {
  // The kernel keeps an established connection's forwarding method and gives new ones the new
  // method at once. A NAT reply must pass the director, a DR reply must not (its source is the
  // director's own VIP: a martian there). So the real servers' default route changes right after
  // the directors' switch, in the reroute wave: not in prepare, not in retire.
  const DIRECTOR = '192.0.2.10';
  const methodPool = (forwarding: 'dr' | 'nat', servers: number[] = [1, 2]): CompiledTask =>
    task('IPVS virtual services', 'ipvs', {
      services: [{ protocol: 'tcp', address: VIP, port: 80, scheduler: 'wrr', real_servers: servers.map((n) => ({ address: rip(n), forwarding })) }],
    });
  const methodTable = (flag: '-g' | '-m', servers: number[] = [1, 2]) => (probe: string): string => table(servers)(probe).replaceAll('-g -w 1', `${flag} -w 1`);
  const natRoute = task('default route via the director', 'route', { destination: 'default', via: DIRECTOR });
  /** The route probe's output: the default route in use, and the one lvsprov recorded before replacing it. */
  const defaultRoute = (current: string, original?: string) => (probe: string): string =>
    probe.includes('route') && probe.includes('default') ? [current, ...(original ? [`O ${original}`] : [])].join('\n') : '';
  const waves = (summary: { plan: { waves: ReadonlyArray<{ phase: string; hosts: ReadonlyArray<{ host: string }> }> } }): Array<[string, string[]]> =>
    summary.plan.waves.map((wave) => [wave.phase, wave.hosts.map((entry) => entry.host)]);

  const drToNat: Case = {
    tasks: { director: [methodPool('nat')], rs1: [natRoute], rs2: [natRoute] },
    hosts: { director: { read: methodTable('-g') }, rs1: { read: defaultRoute('default via 192.0.2.1 dev eth0') }, rs2: { read: defaultRoute('default via 192.0.2.1 dev eth0') } },
  };
  const natToDr: Case = {
    tasks: { director: [methodPool('dr')], rs1: [], rs2: [] },
    hosts: {
      director: { read: methodTable('-m') },
      rs1: { owned: [natRoute], read: defaultRoute(`default via ${DIRECTOR} dev eth0`, 'via 192.0.2.1 dev eth0') },
      rs2: { owned: [natRoute], read: defaultRoute(`default via ${DIRECTOR} dev eth0`, 'via 192.0.2.1 dev eth0') },
    },
  };

  it('DR to NAT: the directors switch in balance, then the real servers route through them', async () => {
    const { summary, log, result } = await run(drToNat);
    expect(waves(summary)).toEqual([
      ['balance', ['director']],
      ['reroute', ['rs1', 'rs2']],
      // The next-hop pin of the switch goes after its drain (next-hop-pin.ts).
      ['withdraw', ['director']],
    ]);
    expect(result('director').changes.find((change) => change.switching)?.summary).toBe(`real server ${rip(1)}:80 forwarding dr -> nat in TCP ${VIP}:80`);
    expect(result('rs1').changes.map((change) => [change.phase, change.summary])).toEqual([['reroute', `route default: via 192.0.2.1 dev eth0 -> via ${DIRECTOR}`]]);
    // Every apply of the director ran before the first of a real server.
    const applies = log.filter((entry) => entry.kind === 'apply').map((entry) => entry.host);
    expect(applies.slice(0, 1)).toEqual(['director']);
    expect(applies.slice(1, 3).sort()).toEqual(['rs1', 'rs2']);
    expect(applies.slice(3)).toEqual(['director']);
    // --check shows the same waves.
    const check = await run({ ...drToNat, options: { check: true } });
    expect(waves(check.summary)).toEqual(waves(summary));
    expect(check.summary.results.every((entry) => entry.stats.execs === 1)).toBe(true);
  });

  it('NAT to DR: the default route the NAT role replaced comes back right after the switch, not in retire', async () => {
    const { summary, result } = await run(natToDr);
    expect(waves(summary)).toEqual([
      ['balance', ['director']],
      ['reroute', ['rs1', 'rs2']],
      // The next-hop pin of the switch goes after its drain (next-hop-pin.ts).
      ['withdraw', ['director']],
    ]);
    expect(result('rs2').changes.map((change) => [change.phase, change.summary])).toEqual([
      ['reroute', `route default: via ${DIRECTOR} dev eth0 -> via 192.0.2.1 dev eth0 (the default it replaced)`],
    ]);
  });

  it('a NAT server that joins routes through the director before it is added; one that leaves gets its route back once deleted', async () => {
    const joinAndLeave: Case = {
      tasks: { director: [methodPool('nat', [1, 3])], rs1: [natRoute], rs2: [], rs3: [natRoute] },
      hosts: {
        director: { read: methodTable('-m', [1, 2]) },
        rs1: { read: defaultRoute(`default via ${DIRECTOR} dev eth0`, 'via 192.0.2.1 dev eth0') },
        rs2: { owned: [natRoute], read: defaultRoute(`default via ${DIRECTOR} dev eth0`, 'via 192.0.2.1 dev eth0') },
        rs3: { read: defaultRoute('default via 192.0.2.1 dev eth0') },
      },
    };
    const { summary } = await run(joinAndLeave);
    expect(waves(summary)).toEqual([
      ['prepare', ['rs3']],
      ['balance', ['director']],
      ['withdraw', ['director']],
      ['retire', ['rs2']],
    ]);
  });

  // With the NAT role's source route (RIP -> table 100 -> default via the director), NAT replies
  // have their own way for the whole switch, and the main default serves DR replies alone: it
  // leaves the director before the switch (NAT to DR) and goes to it only after (DR to NAT).
  const sourceRoute = task('NAT replies via the director', 'source_route', { source: rip(1), via: DIRECTOR, table: 100, priority: 1000 });
  const sourceRoutes = (present: boolean) => (probe: string): string =>
    present ? `R 1000:\tfrom ${rip(1)} lookup 254 suppress_prefixlength 0\nR 1001:\tfrom ${rip(1)} lookup 100\nT default via ${DIRECTOR} dev eth0\n` : probe ? 'R 0:\tfrom all lookup 255\n' : '';
  const withSourceRoute = (present: boolean, current: string, original?: string) => (probe: string): string =>
    probe.includes(' rule ') ? sourceRoutes(present)(probe) : defaultRoute(current, original)(probe);

  it('DR to NAT with a source route: NAT replies route through the director before the switch, the main default only after it', async () => {
    const { summary, result } = await run({
      tasks: { director: [methodPool('nat', [1])], rs1: [sourceRoute, natRoute] },
      hosts: { director: { read: methodTable('-g', [1]) }, rs1: { read: withSourceRoute(false, 'default via 192.0.2.1 dev eth0') } },
    });
    expect(waves(summary)).toEqual([
      ['prepare', ['rs1']],
      ['balance', ['director']],
      ['withdraw', ['director']],
      ['retire', ['rs1']],
    ]);
    expect(result('rs1').changes.map((change) => [change.phase, change.resource])).toEqual([
      ['prepare', `source_route ${rip(1)}`],
      ['retire', 'route default'],
    ]);
  });

  it('NAT to DR with a source route: the main default comes back before the switch, the source route goes after the drain', async () => {
    const { summary, result } = await run({
      tasks: { director: [methodPool('dr', [1])], rs1: [] },
      hosts: { director: { read: methodTable('-m', [1]) }, rs1: { owned: [sourceRoute, natRoute], read: withSourceRoute(true, `default via ${DIRECTOR} dev eth0`, 'via 192.0.2.1 dev eth0') } },
    });
    expect(waves(summary)).toEqual([
      ['prepare', ['rs1']],
      ['balance', ['director']],
      ['withdraw', ['director']],
      ['retire', ['rs1']],
    ]);
    expect(result('rs1').changes.map((change) => [change.phase, change.resource])).toEqual([
      ['prepare', 'route default'],
      ['retire', `source_route ${rip(1)}`],
    ]);
  });

  it('a director that failed before it switched: the real servers keep the route its old method needs', async () => {
    const { result, execs } = await run({ ...drToNat, hosts: { ...drToNat.hosts, director: { read: methodTable('-g'), status: (commands) => (commands.includes('ipvsadm -e') ? 1 : 0) } } });
    expect(result('director').status).toBe('failed');
    expect(execs('rs1')).toEqual(['read']);
    expect(result('rs1').heldBack?.map((change) => [change.phase, change.reason])).toEqual([['reroute', `director director failed before it switched ${rip(1)}'s forwarding`]]);
  });
});

describe('a VIP moved from one director to another in one apply', () => {
  // dir1 made the VIP in an earlier apply and its tasks no longer declare it (pruned); dir2 adds
  // and announces it. Both keep the same table.
  const eth0 = (addresses: string[]) => (probe: string): string =>
    probe.includes('ipvsadm -S -n') ? table([1, 2])(probe) : probe.includes('addr') && probe.includes('show') ? addresses.map((address) => `2: eth0    inet ${address}/32 scope global eth0:1\\       valid_lft forever preferred_lft forever`).join('\n') : '';
  const vipTask = task('VIP', 'address', { address: VIP, device: 'eth0', label: 'eth0:1', announce: true });
  const moved = (dir2: FakeHost, dir2Tasks: CompiledTask[] = []): Case => ({
    tasks: { dir1: [pool([1, 2])], dir2: [...dir2Tasks, pool([1, 2]), vipTask] },
    hosts: { dir1: { read: eth0([VIP]), owned: [pool([1, 2]), vipTask] }, dir2: { owned: [pool([1, 2])], ...dir2 } },
  });
  const vipChanges = (result: HostResult): string[] => result.changes.filter((change) => change.resource.startsWith('address ')).map((change) => `${change.phase ?? 'prepare'} ${change.summary}`);

  it('the old director lets it go first thing in the balance wave in which the new one adds it', async () => {
    const { result, log, summary } = await run(moved({ read: eth0([]) }));
    expect(vipChanges(result('dir1'))).toEqual([`balance address ${VIP} on eth0: ${VIP}/32 label eth0:1 -> (absent)`]);
    expect(result('dir1').changes.find((change) => change.phase === 'balance')?.resource).toBe(`address ${VIP} on eth0`);
    // The ownership manifest still rides on dir1's last change, written once every change ran.
    const manifestAt = result('dir1').changes.flatMap((change, index) => (change.commands.some((command) => command.includes('/var/lib/lvsprov/')) ? [index] : []));
    expect(manifestAt.at(-1)).toBe(result('dir1').changes.length - 1);
    expect(vipChanges(result('dir2'))).toEqual([`balance address ${VIP} on eth0: (absent) -> ${VIP}/32 label eth0:1`, `balance announce ${VIP} on eth0 (gratuitous ARP)`]);
    expect(result('dir1').status).toBe('changed');
    // One apply exec on dir1 carries it; dir2 adds and announces it in a second exec of its own (its save file went first).
    expect(log.filter((entry) => entry.kind === 'apply').map((entry) => entry.host)).toEqual(['dir1', 'dir2', 'dir2']);
    expect(result('dir2').changes.map((change) => [change.summary, change.awaitsRelease?.from])).toEqual([
      ['create /etc/ipvsadm.rules', undefined],
      [`address ${VIP} on eth0: (absent) -> ${VIP}/32 label eth0:1`, ['dir1']],
      [`announce ${VIP} on eth0 (gratuitous ARP)`, ['dir1']],
    ]);
    expect(summary.plan.takeovers).toEqual([{ host: 'dir2', address: VIP, from: ['dir1'] }]);
  });

  it("the new director adds and announces it only once the old one's removal ended, heard as its output streams, not at the end of its exec", async () => {
    const started = performance.now();
    const at = new Map<string, number[]>();
    const stamp = (host: string) => (kind: string): void => {
      if (kind === 'apply') at.set(host, [...(at.get(host) ?? []), performance.now() - started]);
    };
    // dir1's removal takes 150 ms (a slow host), the rest of its balance 400 ms more.
    const takes = (commands: string): number => (commands.includes('ip addr del') ? 150 : 400);
    const { result, summary } = await run({ ...moved({ read: eth0([]), onExec: stamp('dir2') }), hosts: { ...moved({ read: eth0([]) }).hosts, dir1: { ...moved({ read: eth0([]) }).hosts.dir1, takes, onExec: stamp('dir1') }, dir2: { owned: [pool([1, 2])], read: eth0([]), onExec: stamp('dir2') } } });
    expect(result('dir1').status).toBe('changed');
    expect(result('dir2').status).toBe('changed');
    const [dir1Apply = NaN] = at.get('dir1') ?? [];
    const [, dir2Second = NaN] = at.get('dir2') ?? [];
    expect(dir2Second - dir1Apply).toBeGreaterThanOrEqual(145);
    expect(dir2Second - dir1Apply).toBeLessThan(500);
    expect(summary.plan.takeovers).toEqual([{ host: 'dir2', address: VIP, from: ['dir1'] }]);
  });

  /** dir2's segment, as its check of the VIP (arping -D) finds it: someone still answers, or nobody. */
  const segment = (answered: boolean) => (commands: string): number => (commands.includes('arping -D') && answered ? 1 : 0);
  const check = `ask eth0's segment whether anyone still answers ARP for ${VIP} (arping -D, up to 2 s): dir1 did not let it go as far as this run knows (failed, or lost before its removal's end was heard)`;
  const takeover = [`address ${VIP} on eth0: (absent) -> ${VIP}/32 label eth0:1`, `announce ${VIP} on eth0 (gratuitous ARP)`];
  const dir2Run = (result: HostResult): string[] => result.changes.map((change, index) => `${change.summary}: ${result.outcomes?.[index] ?? 'planned'}`);
  const dir1RemovalFails = (answered: boolean): Case => ({
    ...moved({ read: eth0([]), status: segment(answered) }),
    hosts: { ...moved({ read: eth0([]) }).hosts, dir1: { ...moved({ read: eth0([]) }).hosts.dir1, status: (commands) => (commands.includes('ip addr del') ? 2 : 0) }, dir2: { owned: [pool([1, 2])], read: eth0([]), status: segment(answered) } },
  });

  it('the old director fails to let it go (its removal fails) and still answers ARP for it: the new one asks the segment, makes its services, neither adds nor announces the VIP, and fails saying why', async () => {
    const { result, execs, log } = await run(moved({ read: eth0([]) }));
    expect(execs('dir2')).toEqual(['read', 'apply', 'apply']);
    // The normal path asks nothing: no arping in the second exec.
    expect(log.filter((entry) => entry.host === 'dir2' && entry.kind === 'apply').flatMap((entry) => entry.sections).some((section) => section.includes('arping -D'))).toBe(false);
    expect(result('dir2').changes.some((change) => change.summary.startsWith('ask '))).toBe(false);
    const failing = await run(dir1RemovalFails(true));
    expect(failing.result('dir1').status).toBe('failed');
    expect(failing.result('dir2').status).toBe('failed');
    expect(failing.execs('dir2')).toEqual(['read', 'apply', 'apply']);
    expect(failing.log.filter((entry) => entry.host === 'dir2' && entry.kind === 'apply')[1]?.sections[0]).toContain(`arping -D -c 2 -w 2 -I eth0 ${VIP}`);
    expect(dir2Run(failing.result('dir2'))).toEqual(['create /etc/ipvsadm.rules: made', `${check}: failed`, `${takeover[0]}: not-made`, `${takeover[1]}: not-made`]);
    expect(failing.result('dir2').error).toMatchObject({ kind: 'apply', message: `${check} failed (exit 1)` });
    expect(failing.result('dir2').heldBack ?? []).toEqual([]);
    // Its save file still carries the manifest: what dir2 made is on the record.
    expect(failing.result('dir2').changes[0]?.commands.some((command) => command.includes('/var/lib/lvsprov/'))).toBe(true);
  });

  it('the old director failed to let it go but nobody answers for the VIP (it is down): the new one adds and announces it', async () => {
    const { result } = await run(dir1RemovalFails(false));
    expect(result('dir1').status).toBe('failed');
    expect(result('dir2').status).toBe('changed');
    expect(dir2Run(result('dir2'))).toEqual(['create /etc/ipvsadm.rules: made', `${check}: made`, `${takeover[0]}: made`, `${takeover[1]}: made`]);
  });

  it("the old director failed before balance, or its connection went during it: the new one asks the segment, and takes the VIP only where nobody answers", async () => {
    const prepareFails = (answered: boolean): Case => ({ ...moved({ read: eth0([]) }), tasks: { ...moved({ read: eth0([]) }).tasks, dir1: [page('dir1'), pool([1, 2])] }, hosts: { ...moved({ read: eth0([]) }).hosts, dir1: { ...moved({ read: eth0([]) }).hosts.dir1, status: (commands) => (commands.includes('index.html') ? 1 : 0) }, dir2: { owned: [pool([1, 2])], read: eth0([]), status: segment(answered) } } });
    const lost = (answered: boolean): Case => ({ ...moved({ read: eth0([]) }), hosts: { ...moved({ read: eth0([]) }).hosts, dir1: { ...moved({ read: eth0([]) }).hosts.dir1, throwOn: 'apply' }, dir2: { owned: [pool([1, 2])], read: eth0([]), status: segment(answered) } } });
    for (const [why, make] of [['prepare fails', prepareFails], ['connection lost', lost]] as const) {
      const held = await run(make(true));
      expect(held.result('dir1').status, why).toBe('failed');
      expect([held.result('dir2').status, dir2Run(held.result('dir2')).slice(1)], why).toEqual(['failed', [`${check}: failed`, `${takeover[0]}: not-made`, `${takeover[1]}: not-made`]]);
      const free = await run(make(false));
      expect([free.result('dir2').status, dir2Run(free.result('dir2')).slice(1)], why).toEqual(['changed', [`${check}: made`, `${takeover[0]}: made`, `${takeover[1]}: made`]]);
    }
  });

  it('with one fork, two directors that swap VIPs each let theirs go and take the other: neither waits for the other forever', async () => {
    const other = '198.51.100.51';
    const vip2 = task('VIP 2', 'address', { address: other, device: 'eth0', label: 'eth0:2', announce: true });
    const holding = (addresses: string[]) => eth0(addresses);
    const { result, summary } = await run({
      tasks: { dir1: [pool([1, 2]), vip2], dir2: [pool([1, 2]), vipTask] },
      hosts: { dir1: { read: holding([VIP]), owned: [pool([1, 2]), vipTask] }, dir2: { read: holding([other]), owned: [pool([1, 2]), vip2] } },
      options: { forks: 1 },
    });
    expect([result('dir1').status, result('dir2').status]).toEqual(['changed', 'changed']);
    expect(summary.plan.takeovers).toEqual([
      { host: 'dir1', address: other, from: ['dir2'] },
      { host: 'dir2', address: VIP, from: ['dir1'] },
    ]);
    expect(result('dir1').heldBack ?? []).toEqual([]);
  });

  it('keeps it on the old director until retire when the new one failed before balance', async () => {
    const { result } = await run(moved({ read: eth0([]), status: (commands) => (commands.includes('index.html') ? 1 : 0) }, [page('dir2')]));
    expect(result('dir2').status).toBe('failed');
    expect(vipChanges(result('dir1'))).toEqual([`retire address ${VIP} on eth0: ${VIP}/32 label eth0:1 -> (absent)`]);
  });
});
