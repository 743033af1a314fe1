import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CompiledTask } from '../../src/config/compile.js';
import type { PlannedChange } from '../../src/engine/events.js';
import type { HostContext } from '../../src/resources/types.js';
import { hostReadPlan, planHost } from '../../src/engine/host-plan.js';
import type { RunMode } from '../../src/engine/planners.js';
import { resourceTypes } from '../../src/resources/registry.js';
import { isManifestProbe, manifestRead } from '../support/manifest-read.js';

// The pure host planner: probes in, phased changes out, no session.

const task = (name: string, type: CompiledTask['type'], spec: unknown): CompiledTask => ({ name, type, spec: resourceTypes[type].schema.parse(spec) });
const VIP = '198.51.100.50';
const ipvsTask = (servers: string[]): CompiledTask =>
  task('IPVS virtual services', 'ipvs', {
    services: [{ protocol: 'tcp', address: VIP, port: 80, scheduler: 'wrr', real_servers: servers.map((address) => ({ address, forwarding: 'dr' })) }],
  });
const director = (servers: string[], table: string[]): { tasks: CompiledTask[]; answer: (probe: string) => string } => ({
  tasks: [task('VIP', 'file', { path: '/etc/lvsprov/director.ip', content: 'x\n' }), ipvsTask(servers)],
  answer: (probe) =>
    probe.includes('ipvsadm -S -n')
      ? [`S -A -t ${VIP}:80 -s wrr`, ...table.map((rip) => `S -a -t ${VIP}:80 -r ${rip}:80 -g -w 1`), 'I 0', 'O ID=debian', 'F-', 'F-'].join('\n')
      : 'F-',
});

/** Plan from what `answer` gives each probe of the tasks' read, on a host whose manifest records what the tasks own. */
function plan(tasks: CompiledTask[], answer: (probe: string) => string, context: HostContext, mode: RunMode = 'apply'): PlannedChange[] {
  const read = hostReadPlan(tasks, mode);
  const output = (probe: string): string => (isManifestProbe(probe) ? manifestRead(probe, tasks, answer) : answer(probe));
  return planHost(read, new Map(read.probes.map((probe, index) => [index, { stdout: output(probe), status: 0 }])), context);
}

describe('host planner', () => {
  it('stops a director without ipvsadm with the package to install, unless an earlier task installs it', () => {
    const answer = (probe: string): string => (probe.includes('ipvsadm -S -n') ? 'I no-ipvsadm\nO ID=debian\nF-\nF-' : 'M apt\nS unknown ok not-installed');
    expect(() => plan([ipvsTask(['192.0.2.11'])], answer, { host: 'director' })).toThrow('task "IPVS virtual services": ipvsadm is not installed (Debian package: ipvsadm)');
    const installed = plan([task('ipvsadm', 'package', { name: 'ipvsadm' }), ipvsTask(['192.0.2.11'])], answer, { host: 'director' });
    expect(installed.map((change) => change.summary)).toContain(`add service TCP ${VIP}:80 (wrr)`);
    // Installed by a later task is too late: the table is read before it.
    expect(() => plan([ipvsTask(['192.0.2.11']), task('ipvsadm', 'package', { name: 'ipvsadm' })], answer, { host: 'director' })).toThrow(/ipvsadm is not installed/);
  });

  it('restarts a service whose configuration an earlier task rewrites, and only then', () => {
    const config = (content: string): CompiledTask => task('settings', 'file', { path: '/etc/memcached.conf', content });
    const memcached = task('memcached', 'service', { name: 'memcached', restart_on: ['/etc/memcached.conf'] });
    // Running, started by lvsprov after the file was last written; the file holds `-m 64`.
    const answer = (probe: string): string => (probe.includes('/etc/init.d/') ? 'D sysv\nS 0\nE enabled\nT update-rc.d' : `F 644 ${Buffer.from('-m 64\n').toString('base64')}`);
    const summaries = (tasks: CompiledTask[]): string[] => plan(tasks, answer, { host: 'store' }).map((change) => change.summary);
    expect(summaries([config('-m 32\n'), memcached])).toEqual(['update /etc/memcached.conf', 'restart memcached: /etc/memcached.conf changed']);
    expect(summaries([config('-m 64\n'), memcached])).toEqual([]);
    // Written by a later task, the file is read at the next start, not by a restart before it.
    expect(summaries([memcached, config('-m 32\n')])).toEqual(['update /etc/memcached.conf']);
  });

  it('one probe per distinct snippet: two tasks on one key share it; then the ownership manifest\'s', () => {
    const tasks = [ipvsTask(['192.0.2.11']), ipvsTask(['192.0.2.11'])];
    expect(hostReadPlan(tasks, 'apply').probes.map(isManifestProbe)).toEqual([false, true]);
  });

  it('sorts changes into waves, keeping task order within each; a change without a phase is prepare', () => {
    const { tasks, answer } = director(['192.0.2.11', '192.0.2.13'], ['192.0.2.11', '192.0.2.12']);
    const changes = plan(tasks, answer, { host: 'director' });
    expect(changes.map((change) => [change.phase, change.summary])).toEqual([
      ['prepare', 'create /etc/lvsprov/director.ip'],
      ['balance', `add real server 192.0.2.13:80 (dr, weight 1) to TCP ${VIP}:80`],
      ['balance', `quiesce real server 192.0.2.12:80 in TCP ${VIP}:80 (weight 1 -> 0, then drain)`],
      ['withdraw', `remove real server 192.0.2.12:80 (dr, weight 1) from TCP ${VIP}:80`],
      ['withdraw', 'create /etc/ipvsadm.rules'],
    ]);
    expect(changes[1]?.joining).toEqual({ service: ['-t', `${VIP}:80`], server: '192.0.2.13:80', address: '192.0.2.13', vip: VIP });
    expect(changes[2]?.leaving).toEqual(changes[3]?.leaving);
  });

  it('withheld addresses are not added, and the save file is planned without them', () => {
    const { tasks, answer } = director(['192.0.2.11', '192.0.2.13'], ['192.0.2.11']);
    const changes = plan(tasks, answer, { host: 'director', withheld: new Set(['192.0.2.13', '192.0.2.11']) });
    // 192.0.2.11 is already in the table: withholding never removes a server that is there.
    expect(changes.map((change) => change.summary)).toEqual(['create /etc/lvsprov/director.ip', 'create /etc/ipvsadm.rules']);
    expect(changes[1]?.diff?.after).toBe(`-A -t ${VIP}:80 -s wrr\n-a -t ${VIP}:80 -r 192.0.2.11:80 -g -w 1\n`);
  });

  it("a NAT real server's replies moving from one director gateway to another wait for the reroute wave; a first route through a director, or a forwarding switch's, keep their own wave", () => {
    const tasks = [
      task('NAT replies via the director', 'source_route', { source: '192.0.2.11', via: '192.0.2.1', table: 100, priority: 1000 }),
      task('default route via the director', 'route', { destination: 'default', via: '192.0.2.1' }),
    ];
    const rules = ['R 0:\tfrom all lookup 255', 'R 1000:\tfrom 192.0.2.11 lookup 254 suppress_prefixlength 0', 'R 1001:\tfrom 192.0.2.11 lookup 100', 'R 32766:\tfrom all lookup 254'];
    // Through dir1's own address until now (lvsprov set both: the original default is on record).
    const throughDir1 = (probe: string): string =>
      probe.includes('rule show') ? [...rules, 'T default via 192.0.2.2 dev eth0'].join('\n') : 'default via 192.0.2.2 dev eth0 \nO via 192.0.2.254 dev eth0';
    const moved = plan(tasks, throughDir1, { host: 'rs1' });
    expect(moved.filter((change) => change.movesGateway).map((change) => [change.phase, change.resource])).toEqual([
      ['reroute', 'source_route 192.0.2.11'],
      ['reroute', 'route default'],
    ]);
    // A real server whose replies go through no director yet: its routes come before any director sends to it.
    const fresh = plan(tasks, (probe) => (probe.includes('rule show') ? rules.slice(0, 1).join('\n') : 'default via 192.0.2.254 dev eth0 '), { host: 'rs1' });
    expect(fresh.filter((change) => !change.resource.startsWith('file ')).map((change) => [change.phase, change.resource, change.movesGateway === true])).toEqual([
      ['prepare', 'source_route 192.0.2.11', false],
      ['prepare', 'route default', false],
    ]);
    // No original on record (the host had no default before lvsprov's): the default moves with its source routes.
    const noOriginal = plan(tasks, (probe) => throughDir1(probe).replace(/ \nO via .*$/, ' '), { host: 'rs1' });
    expect(noOriginal.filter((change) => !change.resource.startsWith('file ')).map((change) => [change.phase, change.resource, change.movesGateway === true])).toEqual([
      ['reroute', 'source_route 192.0.2.11', true],
      ['reroute', 'route default', false],
    ]);
    // A forwarding switch orders the default route itself (rerouteDefault); the source route is not deferred by this rule then.
    const switching = plan(tasks, throughDir1, { host: 'rs1', rerouting: true });
    expect(switching.find((change) => change.resource === 'source_route 192.0.2.11')?.phase).toBe('prepare');
  });

  describe('a NAT real server that also serves DR or TUN, before or after the run: its main default never carries a direct reply past the director', () => {
    // A DR or TUN reply leaves from the VIP, one of the director's own addresses: passed to the
    // director by the main default, it is dropped there as a martian. The NAT replies have their
    // own route (the source route, there all along), so the main default leaves the director
    // before any director adds the server to a DR or TUN service (prepare), and comes to it only
    // once every director let the server's DR or TUN services go (retire).
    const sourceRoute = task('NAT replies via the director', 'source_route', { source: '192.0.2.11', via: '192.0.2.1', table: 100, priority: 1000 });
    const viaDirector = task('default route via the director', 'route', { destination: 'default', via: '192.0.2.1' });
    const vipOnLo = task('VIP on lo', 'address', { address: VIP, device: 'lo' });
    const rules = ['R 0:\tfrom all lookup 255', 'R 1000:\tfrom 192.0.2.11 lookup 254 suppress_prefixlength 0', 'R 1001:\tfrom 192.0.2.11 lookup 100', 'R 32766:\tfrom all lookup 254', 'T default via 192.0.2.1 dev eth0'].join('\n');
    const lo = (withVip: boolean): string => ['lvsprov-device eth0', 'lvsprov-device lo', ...(withVip ? [`1: lo    inet ${VIP}/32 scope global lo\\       valid_lft forever preferred_lft forever`] : [])].join('\n');
    /** `defaultVia`: the main default as read; through the director, lvsprov set it and has the original (the router) on record. */
    const host = (defaultVia: string, withVip: boolean) => (probe: string): string =>
      probe.includes('rule show') ? rules : probe.includes('ip -o -4 addr show') ? lo(withVip) : `default via ${defaultVia} dev eth0 ${defaultVia === '192.0.2.1' ? '\nO via 192.0.2.254 dev eth0' : ''}`;
    function phases(tasks: CompiledTask[], recorded: CompiledTask[], answer: (probe: string) => string): string[][] {
      const read = hostReadPlan(tasks, 'apply');
      const output = (probe: string): string => (isManifestProbe(probe) ? manifestRead(probe, recorded, answer) : answer(probe));
      const changes = planHost(read, new Map(read.probes.map((probe, index) => [index, { stdout: output(probe), status: 0 }])), { host: 'rs1' });
      return changes.filter((change) => !change.resource.startsWith('file ')).map((change) => [change.phase ?? '', change.resource]);
    }

    it('NAT alone to NAT and DR: the default goes back to the router in prepare, with the VIP on lo', () => {
      expect(phases([sourceRoute, vipOnLo], [sourceRoute, viaDirector], host('192.0.2.1', false))).toEqual([
        ['prepare', `address ${VIP} on lo`],
        ['prepare', 'route default'],
      ]);
    });

    it('NAT and DR to NAT alone: the default comes to the director in retire, with the VIP leaving lo', () => {
      expect(phases([sourceRoute, viaDirector], [sourceRoute, vipOnLo], host('192.0.2.254', true))).toEqual([
        ['retire', 'route default'],
        ['retire', `address ${VIP} on lo`],
      ]);
    });

    it('NAT alone, first apply: the default comes to the director in prepare, before any director sends to the server', () => {
      expect(phases([sourceRoute, viaDirector], [sourceRoute], host('192.0.2.254', false))).toEqual([['prepare', 'route default']]);
    });
  });

  it('reset: changes without a phase wait for the directors (retire)', () => {
    const tasks = [task('test page', 'file', { path: '/var/www/index.html', content: 'rs1\n' })];
    const changes = plan(tasks, () => `F 644 ${Buffer.from('rs1\n').toString('base64')}`, { host: 'rs1' }, 'reset');
    expect(changes.map((change) => [change.phase, change.summary])).toEqual([['retire', 'remove /var/www/index.html']]);
  });

  it("reset: the read runs no task's probe, but prefetches the paths they read for the recorded probes; apply prefetches its own", () => {
    const tasks = [task('test page', 'file', { path: '/var/www/index.html', content: 'rs1\n' }), ipvsTask(['192.0.2.11'])];
    const reset = hostReadPlan(tasks, 'reset');
    expect(reset.probes).toEqual([reset.ownership.probe]);
    expect(reset.alsoPrefetch).toEqual(tasks.map((each) => resourceTypes[each.type].probe(each.spec as never)));
    expect(hostReadPlan(tasks, 'apply').alsoPrefetch).toEqual([]);
  });

  it('a probe output no parser understands fails the plan, naming the task', () => {
    const tasks = [ipvsTask(['192.0.2.11'])];
    expect(() => plan(tasks, () => 'garbage', { host: 'director' })).toThrow(/task "IPVS virtual services": .*status line/);
  });

  it('a director leaving a keepalived pair: the clean stop takes the virtual service along, and the save file its ipvs task writes forgets it in the same apply', () => {
    // keepalived (recorded by an earlier apply) runs and holds the service; the ipvs task of a director of nothing reads it in the table.
    const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/resources/keepalived/in-sync-runs-no-check.json'), 'utf8')) as { spec: unknown; output: { stdout: string } };
    const recorded = [task('keepalived holds the VIPs and the IPVS table', 'keepalived', fixture.spec)];
    const tasks = [task('IPVS virtual services', 'ipvs', { services: [] })];
    const live = [`S -A -t ${VIP}:80 -s wrr`, `S -a -t ${VIP}:80 -r 192.0.2.11:80 -g -w 1`, `S -a -t ${VIP}:80 -r 192.0.2.12:80 -g -w 3`];
    const answer = (probe: string): string => (probe.includes('command -v keepalived') ? fixture.output.stdout : [...live, 'I 0', 'O ID=debian', 'F-', 'F-'].join('\n'));
    const read = hostReadPlan(tasks, 'apply');
    const output = (probe: string): string => (isManifestProbe(probe) ? manifestRead(probe, recorded, answer) : answer(probe));
    const changes = planHost(read, new Map(read.probes.map((probe, index) => [index, { stdout: output(probe), status: 0 }])), { host: 'dir2' });
    // The stop comes first (prepare): dropped from its VRRP group, dir2 must not outlive its peers' adverts.
    expect(changes.map((change) => [change.phase, change.summary])).toEqual([
      ['prepare', 'stop keepalived (it removes its VIPs and virtual servers): where it is master of VI_51, its last advert (priority 0) hands the VIPs to the next priority within 1 s'],
      ['balance', 'create /etc/ipvsadm.rules'],
      ['retire', 'disable keepalived at boot'],
      ['retire', 'remove /etc/keepalived/keepalived.conf'],
      ['retire', 'update /etc/ipvsadm.rules'],
    ]);
    // Written from the table as read, then without the service once the plan knows keepalived took it along.
    expect(changes[1]?.diff?.after).toContain(`-A -t ${VIP}:80 -s wrr`);
    expect(changes[4]?.diff?.after).toBe('');
  });
});
