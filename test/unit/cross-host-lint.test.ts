import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/config/compile.js';
import { loadInventory } from '../../src/config/inventory.js';

// The cross-host lint's errors are cases of the bad-input corpus (cross-host family). Here: what
// it must let through (LVS allows it), and the warning for hosts no play reaches.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-lint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const site = join(import.meta.dirname, '../../playbooks/site.yaml');
let count = 0;

function inventory(text: string): string {
  count += 1;
  const file = join(dir, `inventory-${count}.yaml`);
  writeFileSync(file, text);
  return file;
}

const hosts = `hosts:
  router: { address: 192.0.2.1, groups: [routers], vars: { lan_interface: eth1 } }
  director: { address: 192.0.2.10, groups: [directors] }
  rs1: { address: 192.0.2.11, groups: [realservers] }
  rs2: { address: 192.0.2.12, groups: [realservers] }
`;

describe('cross-host lint lets through what LVS allows', () => {
  it.each([
    ['a director that serves too, listed by address (localnode)', `${hosts}lvs:\n  vips: { web: { address: 198.51.100.50 } }\n  services:\n    - { vip: web, port: 80, real_servers: [{ host: rs1 }, { address: 192.0.2.10 }] }\n`],
    ['a NAT real server off the director\'s network when no networks are stated (no guess)', `${hosts}lvs:\n  vips: { web: { address: 198.51.100.50 } }\n  services:\n    - { vip: web, port: 80, forwarding: nat, real_servers: [{ address: 10.9.9.9 }] }\n`],
    ['a TUN real server in no stated network (IPIP is routed: it may be anywhere)', `networks: [192.0.2.0/24]\n${hosts}lvs:\n  vips: { web: { address: 198.51.100.50 } }\n  services:\n    - { vip: web, port: 80, forwarding: tun, real_servers: [{ address: 198.18.9.9 }] }\n`],
    ['a director serving too at its own address in no stated network (localnode)', `networks: [198.18.0.0/24]\n${hosts.replace('groups: [directors] }', 'groups: [directors], vars: { dip: 198.18.0.10 } }')}lvs:\n  vips: { web: { address: 198.51.100.50 } }\n  services:\n    - { vip: web, port: 80, real_servers: [{ address: 198.18.0.11 }, { address: 192.0.2.10 }] }\n`],
    ['a TUN real server on another network than its director', `networks: [192.0.2.0/25, 192.0.2.128/25]\n${hosts.replace('192.0.2.12', '192.0.2.200')}lvs:\n  vips: { web: { address: 198.51.100.50 } }\n  services:\n    - { vip: web, port: 80, forwarding: tun, real_servers: [{ host: rs1 }, { host: rs2 }] }\n`],
    ['two VIPs with a director each', `${hosts}  director2: { address: 192.0.2.20 }\nlvs:\n  vips: { web: { address: 198.51.100.50 }, api: { address: 198.51.100.51 } }\n  services:\n    - { vip: web, port: 80, directors: [director], real_servers: [{ host: rs1 }] }\n    - { vip: api, port: 80, directors: [director2], real_servers: [{ host: rs2 }] }\n`],
    ['two services of one VIP with the same director', `${hosts}lvs:\n  vips: { web: { address: 198.51.100.50 } }\n  services:\n    - { vip: web, port: 80, real_servers: [{ host: rs1 }] }\n    - { vip: web, port: 443, real_servers: [{ host: rs1 }] }\n`],
    ['a NAT real server of two services behind one director', `networks: [192.0.2.0/24]\n${hosts}lvs:\n  vips: { web: { address: 198.51.100.50 }, api: { address: 198.51.100.51 } }\n  services:\n    - { vip: web, port: 80, forwarding: nat, real_servers: [{ host: rs1 }] }\n    - { vip: api, port: 80, forwarding: nat, real_servers: [{ host: rs1 }] }\n`],
    ['a firewall-mark service without a VIP on two directors', `${hosts}  director2: { address: 192.0.2.20, groups: [directors] }\nlvs:\n  services:\n    - { protocol: fwmark, fwmark: 1, persistence: true, real_servers: [{ host: rs1 }] }\n`],
    ['two directors for one VIP with lvs.ha (VRRP picks the holder)', `${hosts}  director2: { address: 192.0.2.20, groups: [directors] }\nlvs:\n  ha: { virtual_router_id: 51 }\n  vips: { web: { address: 198.51.100.50 } }\n  services:\n    - { vip: web, port: 80, health_check: { type: http, path: /health }, real_servers: [{ host: rs1 }, { host: rs2 }] }\n`],
    ['a NAT real server behind a director pair with a floating gateway', `networks: [192.0.2.0/24]\n${hosts}  director2: { address: 192.0.2.20, groups: [directors] }\nlvs:\n  ha: { virtual_router_id: 51, gateway: { address: 192.0.2.254, interface: eth1, virtual_router_id: 52 } }\n  vips: { web: { address: 198.51.100.50 } }\n  services:\n    - { vip: web, port: 80, forwarding: nat, real_servers: [{ host: rs1 }] }\n`],
    ['a fwmark service beside a port-0 service of its VIP (the port-0 service keeps the ports it does not mark)', `${hosts}lvs:\n  vips: { web: { address: 198.51.100.50 } }\n  services:\n    - { vip: web, port: 0, persistence: true, real_servers: [{ host: rs1 }] }\n    - { vip: web, protocol: fwmark, fwmark: 1, ports: [80, 443], real_servers: [{ host: rs2 }] }\n`],
    ['a udp service on a port a fwmark service marks for TCP only', `${hosts}lvs:\n  vips: { web: { address: 198.51.100.50 } }\n  services:\n    - { vip: web, protocol: udp, port: 53, real_servers: [{ host: rs1 }] }\n    - { vip: web, protocol: fwmark, fwmark: 1, ports: [53], real_servers: [{ host: rs2 }] }\n`],
    ['a tcp service on a port the fwmark service of its VIP does not mark, and fwmark services with ports of their own', `${hosts}lvs:\n  vips: { web: { address: 198.51.100.50 } }\n  services:\n    - { vip: web, port: 22, real_servers: [{ host: rs1 }] }\n    - { vip: web, protocol: fwmark, fwmark: 1, ports: [80, 443], real_servers: [{ host: rs2 }] }\n    - { vip: web, protocol: fwmark, fwmark: 2, ports: [8080], real_servers: [{ host: rs1 }] }\n`],
    ['a health check on a director without lvs.ha', `${hosts}lvs:\n  vips: { web: { address: 198.51.100.50 } }\n  services:\n    - { vip: web, port: 80, health_check: { type: tcp }, sorry_server: { address: 192.0.2.99 }, quorum: 1, real_servers: [{ host: rs1 }] }\n`],
  ])('%s', (_, text) => {
    expect(() => loadInventory(inventory(text))).not.toThrow();
  });

  it('the shipped and lab inventories, some stating their networks, pass', () => {
    for (const name of ['dr-lab', 'tun-lab', 'prod', 'lab-dr', 'lab-tun', 'lab-nat']) {
      expect(() => loadInventory(join(import.meta.dirname, '../../inventories', `${name}.yaml`)), name).not.toThrow();
    }
  });
});

describe('a host no play reaches is a warning naming the nearest group', () => {
  const file = inventory(`${hosts}  rs3: { address: 192.0.2.13, groups: [web, realserver] }
  db: { address: 192.0.2.14 }
  client: { address: 192.0.2.15, groups: [clients] }
lvs:
  vips: { web: { address: 198.51.100.50 } }
  services:
    - { vip: web, port: 80, real_servers: [{ host: rs1 }] }
`);

  it('points at the misspelt group, and at hosts in no group, and not at verify clients', () => {
    const run = compile(loadInventory(file), site);
    const ours = run.warnings.filter((warning) => warning.startsWith(file));
    expect(ours).toEqual([
      `${file}:6:45: hosts.rs3.groups.1: no play reaches host rs3 (its groups: realserver, web), so it gets no role; did you mean realservers?`,
      `${file}:7:3: hosts.db: no play reaches host db (it is in no group), so it gets no role`,
    ]);
    expect([...run.hosts.keys()]).not.toContain('rs3');
  });

  it('says nothing when every host is reached, even with --limit', () => {
    const reached = inventory(`${hosts}lvs:\n  vips: { web: { address: 198.51.100.50 } }\n  services:\n    - { vip: web, port: 80, real_servers: [{ host: rs1 }] }\n`);
    expect(compile(loadInventory(reached), site, ['rs1']).warnings.filter((warning) => warning.includes('no play reaches'))).toEqual([]);
  });
});
