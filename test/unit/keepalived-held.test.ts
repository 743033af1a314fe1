import { describe, expect, it } from 'vitest';
import { heldObjects } from '../../src/resources/keepalived/handover.js';
import { keepalived } from '../../src/resources/keepalived.js';
import { typeNamed } from '../../src/ownership/records.js';

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
