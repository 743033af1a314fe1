import { describe, expect, it } from 'vitest';
import { keepalived } from '../../src/resources/keepalived.js';
import { keepalivedConfig } from '../../src/resources/keepalived/config-text.js';
import { liveInstances } from '../../src/resources/keepalived/live-instances.js';
import { parseProbe } from '../../src/resources/keepalived/probe.js';
import { keepalivedSchema } from '../../src/resources/keepalived/schema.js';
import type { Change } from '../../src/resources/types.js';
import { vipsMovingAway } from '../../src/engine/vrrp-moves.js';

// A VIP moved from one director pair to another in one apply (its service given to other
// directors). The old pair's first config of the run leaves it out, as a plain director lets a VIP
// it hands over go first thing in balance; kept there through the drain, the old pair's reload
// announced it again (keepalived's gratuitous ARPs after a reload) and new connections met its
// quiesced servers. A VIP dropped with no new holder in the run stays through the drain, as before.

const V50 = '198.51.100.50';
const V51 = '198.51.100.51';

const server = (address: string) => ({
  protocol: 'tcp',
  address,
  port: 80,
  scheduler: 'wrr',
  forwarding: 'dr',
  real_servers: [
    { address: '192.0.2.11', port: 80, weight: 1 },
    { address: '192.0.2.12', port: 80, weight: 2 },
  ],
  health_check: { type: 'tcp', interval: 2, timeout: 2, retries: 2 },
});

const spec = (vips: string[]) =>
  keepalivedSchema.parse({
    instances: [
      {
        name: 'VI_51',
        virtual_router_id: 51,
        interface: 'eth0',
        state: 'MASTER',
        priority: 150,
        unicast_src_ip: '192.0.2.10',
        unicast_peers: ['192.0.2.20'],
        vips: vips.map((address, index) => ({ address, device: 'eth0', label: `eth0:${index + 1}` })),
      },
    ],
    virtual_servers: vips.map(server),
  });

/** dir1 running the config of both VIPs, its table as keepalived made it. */
const facts = parseProbe({
  stdout: [
    'K 1',
    `F 644 ${Buffer.from(keepalivedConfig(spec([V50, V51]))).toString('base64')}`,
    'R 1',
    'M sysv',
    'E enabled',
    'T update-rc.d',
    ...[V50, V51].flatMap((vip) => [`S -A -t ${vip}:80 -s wrr`, `S -a -t ${vip}:80 -r 192.0.2.11:80 -g -w 1`, `S -a -t ${vip}:80 -r 192.0.2.12:80 -g -w 2`]),
    'I 0',
  ].join('\n'),
  status: 0,
});

/** dir1's plan, given the VIPs the run sees directors elsewhere take (HostContext.handingOver, from vipsMovingAway). */
const plan = (handingOver: Record<string, string[]> | undefined): Change[] =>
  keepalived.plan(spec([V50]), facts, { host: 'dir1', ...(handingOver ? { handingOver: new Map(Object.entries(handingOver)) } : {}) });

/** The VIPs each config the plan writes gives VI_51, by phase. */
const vipsWritten = (changes: readonly Change[]): Array<[string | undefined, string[]]> =>
  changes.flatMap((change) => (change.diff?.kind === 'file' ? [[change.phase, liveInstances(change.diff.after).flatMap((instance) => instance.vips.map((vip) => vip.address))] as [string | undefined, string[]]] : []));

describe('a keepalived VIP moved to another pair of directors', () => {
  it('leaves the old pair with the first config of the run, which still quiesces and drains its servers', () => {
    const changes = plan({ [V51]: ['dir3', 'dir4'] });
    expect(vipsWritten(changes)).toEqual([
      ['balance', [V50]],
      ['withdraw', [V50]],
    ]);
    expect(changes.map((change) => [change.phase, change.summary])).toEqual([
      ['balance', `quiesce 192.0.2.11:80, 192.0.2.12:80 in /etc/keepalived/keepalived.conf (weight 0, reload, then drain); ${V51} goes at once (dir3, dir4 take it)`],
      ['balance', `drain 192.0.2.12:80 of TCP ${V51}:80`],
      ['withdraw', 'update /etc/keepalived/keepalived.conf (keepalived -t, then reload)'],
    ]);
    // Its service stays in the balance config, at weight 0, until the drain (which no longer waits on a VIP not here) ends.
    const balance = changes[0]?.diff?.after ?? '';
    expect(balance).toContain(`virtual_server ${V51} 80 {`);
    expect(changes[0]?.commands.join('\n')).toContain(`ipvsadm -e -t ${V51}:80 -r 192.0.2.11:80 -g -w 0`);
  });

  it('stays through the drain where no director of the run takes it (dropped from the inventory, its directors failed or left out)', () => {
    const cases: Array<Record<string, string[]> | undefined> = [undefined, {}, { '198.51.100.52': ['dir3'] }];
    for (const handingOver of cases) {
      const changes = plan(handingOver);
      expect(vipsWritten(changes)).toEqual([
        ['balance', [V50, V51]],
        ['withdraw', [V50]],
      ]);
      expect(changes[0]?.summary).toBe('quiesce 192.0.2.11:80, 192.0.2.12:80 in /etc/keepalived/keepalived.conf (weight 0, reload, then drain)');
    }
  });

  it('is moving away from a keepalived director where the inventory gives it only to other directors, and some of those are live', () => {
    const vipDirectors = new Map([
      [V50, ['dir1', 'dir2']],
      [V51, ['dir3', 'dir4']],
      ['198.51.100.52', ['dir2', 'dir3']],
      ['198.51.100.53', ['dir5']],
    ]);
    const hosts = (live: string[], plain: string[] = []) => live.map((host) => ({ host, keepalived: !plain.includes(host) }));
    expect(vipsMovingAway(hosts(['dir1', 'dir2', 'dir4']), vipDirectors)).toEqual(
      new Map([
        ['dir1', new Map([[V51, ['dir4']], ['198.51.100.52', ['dir2']]])],
        ['dir2', new Map([[V51, ['dir4']]])],
        ['dir4', new Map([[V50, ['dir1', 'dir2']], ['198.51.100.52', ['dir2']]])],
      ]),
    );
    // dir3 and dir4 failed before balance: nobody takes .51, dir1 keeps it through its drain.
    expect(vipsMovingAway(hosts(['dir1', 'dir2']), vipDirectors).get('dir1')).toEqual(new Map([['198.51.100.52', ['dir2']]]));
    // A plain director hands its VIPs over by their announce, not by this.
    expect(vipsMovingAway(hosts(['dir1', 'dir3'], ['dir1']), vipDirectors).has('dir1')).toBe(false);
  });

  it('comes to the new pair after its services: the config with them first (in prepare where they are all it adds), the VIP once a real server of each passed its check', () => {
    // dir1 runs .50 alone and takes .51 with its service.
    const running = parseProbe({
      stdout: ['K 1', `F 644 ${Buffer.from(keepalivedConfig(spec([V50]))).toString('base64')}`, 'R 1', 'M sysv', 'E enabled', 'T update-rc.d', `S -A -t ${V50}:80 -s wrr`, `S -a -t ${V50}:80 -r 192.0.2.11:80 -g -w 1`, `S -a -t ${V50}:80 -r 192.0.2.12:80 -g -w 2`, 'I 0'].join('\n'),
      status: 0,
    });
    // Its services are all the first config adds: they come in prepare (no VIP of theirs here, no
    // packet reaches them), their checks are over by balance, where the VIP comes.
    const changes = keepalived.plan(spec([V50, V51]), running, { host: 'dir1' });
    expect(changes.map((change) => [change.phase, change.summary])).toEqual([
      ['prepare', `update /etc/keepalived/keepalived.conf with the services of ${V51} first (keepalived -t, then reload); the VIP comes in balance`],
      ['balance', 'update /etc/keepalived/keepalived.conf (keepalived -t, then reload)'],
    ]);
    expect(vipsWritten(changes)).toEqual([
      ['prepare', [V50]],
      ['balance', [V50, V51]],
    ]);
    // With another edit in the run (a weight of .50's), that config waits for balance, as the edit must.
    const reweighted = keepalivedSchema.parse({ ...spec([V50, V51]), virtual_servers: [{ ...server(V50), real_servers: [{ address: '192.0.2.11', port: 80, weight: 5 }, { address: '192.0.2.12', port: 80, weight: 2 }] }, server(V51)] });
    expect(keepalived.plan(reweighted, running, { host: 'dir1' }).map((change) => [change.phase, change.summary])).toEqual([
      ['balance', `update /etc/keepalived/keepalived.conf with the services of ${V51} first (keepalived -t, then reload); the VIP comes once a real server of each is in the table`],
      ['balance', 'update /etc/keepalived/keepalived.conf (keepalived -t, then reload)'],
    ]);
    expect(changes[0]?.diff?.after).toContain(`virtual_server ${V51} 80 {`);
    expect(changes[0]?.commands.at(-1)).toContain(`ipvsadm -S -n 2>/dev/null | grep -q -e '^-a -t 198\\.51\\.100\\.51:80 -r .* -w [1-9]'`);
    // Without a health check its servers are in the table with the reload: one config.
    const unchecked = keepalivedSchema.parse({ ...spec([V50, V51]), virtual_servers: [server(V50), { ...server(V51), health_check: undefined }] });
    expect(keepalived.plan(unchecked, running, { host: 'dir1' }).map((change) => change.summary)).toEqual(['update /etc/keepalived/keepalived.conf (keepalived -t, then reload)']);
  });
});
