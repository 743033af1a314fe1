import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { derivedVariables } from '../../src/config/derived-variables.js';
import { hostVars, varLayers } from '../../src/config/host-vars.js';
import { loadInventory } from '../../src/config/inventory.js';
import { schemaOf } from '../../src/config/variable-types.js';

// The derived variables' declared types (which the role checks and the README use) hold for what
// host-vars.ts actually derives, on every example and lab inventory, and nothing is derived that
// is not declared.

const inventories = join(import.meta.dirname, '../../inventories');

/** An inventory from its lines, loaded from a file of its own that is removed again. */
function inventoryOf(lines: readonly string[]): ReturnType<typeof loadInventory> {
  const dir = mkdtempSync(join(tmpdir(), 'lvsprov-derived-'));
  try {
    const path = join(dir, 'inventory.yaml');
    writeFileSync(path, [...lines, ''].join('\n'));
    return loadInventory(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.each(readdirSync(inventories).filter((name) => name.endsWith('.yaml')))('%s', (name) => {
  const inventory = loadInventory(join(inventories, name));

  it.each(Object.keys(inventory.data.hosts))('host %s: every derived value has its declared type', (host) => {
    const vars = hostVars(inventory, host);
    const set = new Set(varLayers(inventory, host).flatMap((layer) => Object.keys(layer.vars)));
    const derived = Object.keys(vars).filter((key) => !set.has(key) || Object.hasOwn(derivedVariables, key));
    expect(derived.filter((key) => !Object.hasOwn(derivedVariables, key))).toEqual([]);
    for (const [variable, declaration] of Object.entries(derivedVariables)) {
      if (vars[variable] === undefined) {
        expect(declaration.optional, `${variable} is absent on ${host}`).toBe(true);
        continue;
      }
      const parsed = schemaOf(declaration.kind).safeParse(vars[variable]);
      expect(parsed.success, `${variable} on ${host}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });
});

describe('real_server_pool', () => {
  it('says whether directors send a host new connections: weighted in any service, quiesced when listed only at weight 0, else none', () => {
    const inventory = inventoryOf([
      'hosts:',
      '  director: { address: 192.0.2.10, groups: [directors] }',
      '  rs1: { address: 192.0.2.11, groups: [realservers] }',
      '  rs2: { address: 192.0.2.12, groups: [realservers] }',
      '  rs3: { address: 192.0.2.13, groups: [realservers] }',
      'lvs:',
      '  vips: { web: { address: 198.51.100.50 } }',
      '  services:',
      '    - { vip: web, port: 80, forwarding: dr, real_servers: [{ host: rs1, weight: 0 }, { host: rs2, weight: 0 }] }',
      '    - { vip: web, port: 443, forwarding: dr, real_servers: [{ host: rs1, weight: 3 }, { host: rs2, weight: 0 }] }',
    ]);
    expect(['director', 'rs1', 'rs2', 'rs3'].map((host) => hostVars(inventory, host).real_server_pool)).toEqual(['none', 'weighted', 'quiesced', 'none']);
  });
});

describe('a sorry server that is an inventory host', () => {
  // keepalived sends to a sorry server by the service's forwarding method when every real server is
  // down: the host needs what a real server of that method needs, or the fallback drops every request.
  it("is set up as the service's real server at weight 0 (the VIP on lo for DR, its test page on the service's port); not a director of the service (localnode)", () => {
    const inventory = inventoryOf([
      'hosts:',
      '  dir1: { address: 192.0.2.10, groups: [directors] }',
      '  dir2: { address: 192.0.2.20, groups: [directors] }',
      '  rs1: { address: 192.0.2.11, groups: [realservers] }',
      '  sorry: { address: 192.0.2.13, groups: [realservers] }',
      'lvs:',
      '  ha: { virtual_router_id: 51 }',
      '  vips: { web: { address: 198.51.100.50 }, api: { address: 198.51.100.51 } }',
      '  services:',
      '    - { name: web, vip: web, port: 8080, real_servers: [{ host: rs1 }], sorry_server: { address: 192.0.2.13 } }',
      '    - { name: api, vip: api, port: 80, real_servers: [{ host: rs1 }], sorry_server: { address: 192.0.2.10 } }',
    ]);
    const sorry = hostVars(inventory, 'sorry');
    expect(sorry.dr_vips).toEqual([{ address: '198.51.100.50', label: 'lo:0', rip: '192.0.2.13', devices: ['lo'] }]);
    expect(sorry.real_server_pool).toBe('quiesced');
    expect(sorry.web_extra_ports).toEqual([{ port: 8080 }]);
    expect(hostVars(inventory, 'dir1').dr_vips).toEqual([]);
  });
});

describe('nat_gateway', () => {
  it("is the director's dip wherever the inventory sets it: host vars, else its groups' (alphabetical, last wins), else the cluster's", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsprov-dip-'));
    const gateway = (vars: { cluster?: string; group?: string; other?: string; host?: string }): unknown => {
      const path = join(dir, 'inventory.yaml');
      writeFileSync(
        path,
        [
          ...(vars.cluster ? ['vars:', `  dip: ${vars.cluster}`] : []),
          'groups:',
          `  directors: { hosts: [director]${vars.group ? `, vars: { dip: ${vars.group} }` : ''} }`,
          `  edge: { hosts: [director]${vars.other ? `, vars: { dip: ${vars.other} }` : ''} }`,
          'hosts:',
          `  director: { address: 192.0.2.10${vars.host ? `, vars: { dip: ${vars.host} }` : ''} }`,
          '  rs1: { address: 198.18.10.11, groups: [realservers] }',
          'lvs:',
          '  vips: { web: { address: 198.51.100.50 } }',
          '  services:',
          '    - { vip: web, port: 80, forwarding: nat, real_servers: [{ host: rs1 }] }',
          '',
        ].join('\n'),
      );
      return hostVars(loadInventory(path), 'rs1').nat_gateway;
    };
    try {
      expect(gateway({})).toBe('192.0.2.10');
      expect(gateway({ cluster: '198.18.10.1' })).toBe('198.18.10.1');
      expect(gateway({ cluster: '198.18.10.1', group: '198.18.10.2' })).toBe('198.18.10.2');
      expect(gateway({ group: '198.18.10.2', other: '198.18.10.3' })).toBe('198.18.10.3');
      expect(gateway({ group: '198.18.10.2', other: '198.18.10.3', host: '198.18.10.4' })).toBe('198.18.10.4');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('nat_reply_sources and nat_default_route', () => {
  it('lists each address NAT services list a server by (another than host_address too), and keeps the main default off the director where it also serves DR or TUN', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsprov-natsrc-'));
    const vars = (services: string[]): Record<string, unknown> => {
      const path = join(dir, 'inventory.yaml');
      writeFileSync(
        path,
        [
          'hosts:',
          '  director: { address: 192.0.2.10, groups: [directors] }',
          '  rs1: { address: 192.0.2.11 }',
          'lvs:',
          '  vips: { web: { address: 198.51.100.50 }, api: { address: 198.51.100.51 }, tun: { address: 198.51.100.52 } }',
          '  services:',
          ...services.map((service) => `    - ${service}`),
          '',
        ].join('\n'),
      );
      const all = hostVars(loadInventory(path), 'rs1');
      return { sources: all.nat_reply_sources, main: all.nat_default_route };
    };
    try {
      expect(vars(['{ vip: web, port: 80, forwarding: nat, real_servers: [{ host: rs1 }] }'])).toEqual({ sources: [{ address: '192.0.2.11' }], main: true });
      // Listed by a second address of the host, in two services: one source route for each address.
      expect(
        vars(['{ vip: web, port: 80, forwarding: nat, real_servers: [{ host: rs1, address: 192.0.2.21 }] }', '{ vip: web, port: 443, forwarding: nat, real_servers: [{ host: rs1 }, { host: rs1, address: 192.0.2.21, port: 8443 }] }']),
      ).toEqual({ sources: [{ address: '192.0.2.21' }, { address: '192.0.2.11' }], main: true });
      expect(vars(['{ vip: web, port: 80, forwarding: nat, real_servers: [{ host: rs1 }] }', '{ vip: api, port: 80, forwarding: dr, real_servers: [{ host: rs1 }] }'])).toEqual({ sources: [{ address: '192.0.2.11' }], main: false });
      expect(vars(['{ vip: web, port: 80, forwarding: nat, real_servers: [{ host: rs1 }] }', '{ vip: tun, port: 80, forwarding: tun, real_servers: [{ host: rs1 }] }'])).toEqual({ sources: [{ address: '192.0.2.11' }], main: false });
      expect(vars(['{ vip: api, port: 80, forwarding: dr, real_servers: [{ host: rs1 }] }'])).toEqual({ sources: [], main: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('director_nat_interfaces', () => {
  it("lists the interfaces of a director's NAT VIPs (and lvs.ha's gateway), each with its sysctl key component; none for DR alone", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsprov-nat-if-'));
    const path = join(dir, 'inventory.yaml');
    const write = (lines: string[]): void => writeFileSync(path, [...lines, ''].join('\n'));
    try {
      write([
        'vars: { vip_interface: eth0.100 }',
        'hosts:',
        '  director: { address: 192.0.2.10, groups: [directors] }',
        '  rs1: { address: 192.0.2.11, groups: [realservers] }',
        '  rs2: { address: 192.0.2.12, groups: [realservers] }',
        'lvs:',
        '  vips: { web: { address: 198.51.100.50 }, api: { address: 198.51.100.51, interface: eth1 }, dr: { address: 198.51.100.52 } }',
        '  services:',
        '    - { vip: web, port: 80, forwarding: nat, real_servers: [{ host: rs1 }] }',
        '    - { vip: api, port: 80, forwarding: nat, real_servers: [{ host: rs1 }] }',
        '    - { vip: web, port: 443, forwarding: nat, real_servers: [{ host: rs1 }] }',
        '    - { vip: dr, port: 80, forwarding: dr, real_servers: [{ host: rs2 }] }',
      ]);
      expect(hostVars(loadInventory(path), 'director').director_nat_interfaces).toEqual([
        { name: 'eth0.100', key: 'eth0/100' },
        { name: 'eth1', key: 'eth1' },
      ]);
      expect(hostVars(loadInventory(path), 'rs1').director_nat_interfaces).toEqual([]);
      write([
        'hosts:',
        '  director: { address: 192.0.2.10, groups: [directors] }',
        '  rs1: { address: 192.0.2.11, groups: [realservers] }',
        'lvs:',
        '  vips: { dr: { address: 198.51.100.52 } }',
        '  services:',
        '    - { vip: dr, port: 80, forwarding: dr, real_servers: [{ host: rs1 }] }',
      ]);
      expect(hostVars(loadInventory(path), 'director').director_nat_interfaces).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // lvs.ha's floating gateway is on the inside interface: the real servers' replies come in there.
    const haNat = loadInventory(join(inventories, 'lab-ha-nat.yaml'));
    expect(hostVars(haNat, 'dir1').director_nat_interfaces).toEqual([
      { name: 'eth0', key: 'eth0' },
      { name: 'eth1', key: 'eth1' },
    ]);
  });
});

describe('web_extra_ports', () => {
  it("is every port the host's services send it requests on (verify's test port for port 0 and fwmark), less the main web server's web_port and 80 (where web_port moved off it, the main server still holds 80 until its restart)", () => {
    const inventory = inventoryOf([
      'hosts:',
      '  director: { address: 192.0.2.10, groups: [directors], vars: { dip: 198.18.10.1 } }',
      '  rs1: { address: 192.0.2.11, groups: [realservers] }',
      '  rs2: { address: 192.0.2.12, groups: [realservers], vars: { web_port: 8080 } }',
      '  rs3: { address: 198.18.10.13, groups: [realservers] }',
      '  rs4: { address: 192.0.2.14, groups: [realservers] }',
      'lvs:',
      '  vips: { web: { address: 198.51.100.50 }, all: { address: 198.51.100.51 }, api: { address: 198.51.100.52 } }',
      '  services:',
      '    - { vip: web, port: 80, forwarding: dr, real_servers: [{ host: rs1 }, { host: rs2 }, { host: rs4 }] }',
      '    - { vip: web, port: 8080, forwarding: dr, real_servers: [{ host: rs1, weight: 0 }, { host: rs2 }] }',
      '    - { vip: all, port: 0, forwarding: dr, persistence: 300, real_servers: [{ host: rs1 }] }',
      '    - { name: marked, vip: web, protocol: fwmark, fwmark: 1, ports: [9000, 8443], forwarding: dr, real_servers: [{ host: rs1 }] }',
      '    - { vip: api, port: 443, forwarding: nat, real_servers: [{ host: rs3, port: 8000 }, { host: rs3, port: 8001 }] }',
      '    - { vip: api, port: 53, protocol: udp, forwarding: nat, real_servers: [{ host: rs3, port: 5353 }] }',
    ]);
    expect(['director', 'rs1', 'rs2', 'rs3', 'rs4'].map((host) => hostVars(inventory, host).web_extra_ports)).toEqual([
      [],
      [{ port: 8080 }, { port: 8443 }],
      [],
      [{ port: 8000 }, { port: 8001 }],
      [],
    ]);
  });

  it("leaves out the port lvsprov reaches the host's sshd on: sshd holds it (a service balancing SSH), and a test page there could not bind", () => {
    const inventory = inventoryOf([
      'ssh: { port: 2200 }',
      'hosts:',
      '  director: { address: 192.0.2.10, groups: [directors] }',
      '  rs1: { address: 192.0.2.11, groups: [realservers] }',
      '  rs2: { address: 192.0.2.12, groups: [realservers], ssh: { port: 22 } }',
      'lvs:',
      '  vips: { web: { address: 198.51.100.50 } }',
      '  services:',
      '    - { name: ssh, vip: web, port: 22, forwarding: dr, real_servers: [{ host: rs1 }, { host: rs2 }] }',
      '    - { name: other, vip: web, port: 2200, forwarding: dr, real_servers: [{ host: rs1 }, { host: rs2 }] }',
    ]);
    expect(['rs1', 'rs2'].map((host) => hostVars(inventory, host).web_extra_ports)).toEqual([[{ port: 22 }], [{ port: 2200 }]]);
  });
});
