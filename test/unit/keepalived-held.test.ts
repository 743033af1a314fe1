import { describe, expect, it } from 'vitest';
import { heldObjects } from '../../src/resources/keepalived/handover.js';
import { keepalived } from '../../src/resources/keepalived.js';
import { typeNamed } from '../../src/ownership/records.js';
import { releaseTakenAlong } from '../../src/ownership/held.js';
import { parseRules, renderRules } from '../../src/resources/ipvs/rules-format.js';
import { ipvs } from '../../src/resources/ipvs.js';

// What keepalived holds for lvsprov's address and ipvs tasks (ResourceType.takesOver) is read with
// those types' own schemas when keepalived goes and takes a service along: the ipvs task's save
// file then forgets it (ownership/held.ts releaseTakenAlong). A held spec its type refuses was
// passed over without a word, and the save file went on naming a service the kernel no longer had.

const spec = keepalived.schema.parse({
  instances: [{ name: 'VI_51', virtual_router_id: 51, interface: 'eth0', state: 'MASTER', priority: 150, unicast_src_ip: '192.0.2.10', unicast_peers: ['192.0.2.20'], vips: [{ address: '198.51.100.50', device: 'eth0', label: 'eth0:1' }] }],
  virtual_servers: [
    { protocol: 'tcp', address: '198.51.100.50', port: 80, scheduler: 'wrr', forwarding: 'dr', real_servers: [{ address: '192.0.2.11', port: 80, weight: 1 }] },
    { protocol: 'udp', address: '198.51.100.50', port: 53, scheduler: 'rr', forwarding: 'dr', real_servers: [{ address: '192.0.2.11', port: 53, weight: 1 }] },
    { protocol: 'tcp', address: '198.51.100.51', port: 0, scheduler: 'sed', forwarding: 'tun', persistence: { timeout: 60 }, real_servers: [{ address: '192.0.2.12', port: 0, weight: 1 }] },
    { protocol: 'fwmark', fwmark: 7, port: 0, scheduler: 'wlc', forwarding: 'dr', persistence: { timeout: 300, netmask: '255.255.255.0' }, real_servers: [{ address: '192.0.2.13', port: 0, weight: 2 }] },
  ],
});

describe('what keepalived holds for the address and ipvs tasks', () => {
  it('is a spec each of those types accepts, for every shape of virtual server (a port-0 one with its persistence)', () => {
    const held = heldObjects(spec);
    expect(held.map((object) => object.id)).toEqual([
      'address 198.51.100.50 on eth0',
      'ipvs TCP 198.51.100.50:80',
      'ipvs UDP 198.51.100.50:53',
      'ipvs TCP 198.51.100.51:0',
      'ipvs FWM 7',
    ]);
    for (const object of held) {
      const parsed = typeNamed(object.type)?.schema.safeParse(object.spec);
      expect({ id: object.id, accepted: parsed?.success, issues: parsed?.success ? [] : parsed?.error.issues.map((issue) => issue.message) }).toEqual({ id: object.id, accepted: true, issues: [] });
    }
  });
});

describe('the ipvs save file when keepalived takes its services along', () => {
  it('forgets every one of them, each release planned from the table the one before left', () => {
    // The two TCP services keepalived holds, and one of lvsprov's ipvs task beside them, all in the save file.
    const rules = [
      '-A -t 198.51.100.50:80 -s wrr',
      '-a -t 198.51.100.50:80 -r 192.0.2.11:80 -g -w 1',
      '-A -t 198.51.100.50:53 -s rr',
      '-a -t 198.51.100.50:53 -r 192.0.2.11:53 -g -w 1',
      '-A -t 198.51.100.52:80 -s rr',
      '-a -t 198.51.100.52:80 -r 192.0.2.12:80 -g -w 1',
      '',
    ].join('\n');
    const table = parseRules(rules);
    const facts = { ipvs: { state: 'ok' as const }, table, os: { id: 'debian', idLike: [] }, files: { '/etc/ipvsadm.rules': { exists: true as const, content: renderRules(table), mode: '644' } }, pins: [] };
    const held = keepalived.schema.parse({
      instances: [],
      virtual_servers: [
        { protocol: 'tcp', address: '198.51.100.50', port: 80, scheduler: 'wrr', forwarding: 'dr', real_servers: [{ address: '192.0.2.11', port: 80, weight: 1 }] },
        { protocol: 'tcp', address: '198.51.100.50', port: 53, scheduler: 'rr', forwarding: 'dr', real_servers: [{ address: '192.0.2.11', port: 53, weight: 1 }] },
      ],
    });
    const predicted = new Map<string, unknown>([['ipvs:ipvs', facts]]);
    const changes = releaseTakenAlong({ type: keepalived, spec: held, phase: 'retire', task: 'keepalived' }, new Set(), predicted, { host: 'dir1' });
    expect(changes.length).toBeGreaterThan(0);
    const after = predicted.get('ipvs:ipvs') as typeof facts;
    expect(parseRules(after.files['/etc/ipvsadm.rules']?.content ?? '').map((service) => `${service.address}:${service.port}`)).toEqual(['198.51.100.52:80']);
    // Planned again from there, the save file is in sync.
    expect(ipvs.release?.plan(ipvs.schema.parse(heldObjects(held)[1]?.spec), after, { host: 'dir1' })).toEqual([]);
  });
});
