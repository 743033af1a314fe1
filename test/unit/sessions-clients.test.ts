import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostVars } from '../../src/config/host-vars.js';
import { loadInventory } from '../../src/config/inventory.js';

// Whom a session store's allowlist lets in. A real server connects to a store from the address its
// route to the store gives it: on the service's LAN its real-server address, but where lvsprov
// reaches the hosts (and the stores bind) on a management LAN, its inventory address there. A
// store that only let in real-server addresses dropped every real server's connection then.

const work = mkdtempSync(join(tmpdir(), 'lvsprov-sessions-clients-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function storeClients(hosts: string, servers: string, serviceExtra = ''): Map<string, unknown> {
  const file = join(work, `inventory-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `ssh: { user: root }
groups:
  directors: { hosts: [dir1] }
  realservers: { hosts: [rs1, rs2, rs3] }
hosts:
${hosts}
lvs:
  vips:
    web: { address: 198.51.100.50 }
  services:
    - name: web
      vip: web
      port: 80
${serviceExtra}      real_servers:
${servers}
  sessions:
    hosts: [rs1, rs2]
`,
  );
  const inventory = loadInventory(file);
  return new Map(['rs1', 'rs2'].map((host) => [host, (hostVars(inventory, host).session_store_config as { clients: string[] }).clients]));
}

describe('a session store lets in every address a real server may connect from', () => {
  it('one LAN: the real servers (and the other store) by their one address', () => {
    const clients = storeClients(
      ['  dir1: { address: 192.0.2.10 }', '  rs1: { address: 192.0.2.11 }', '  rs2: { address: 192.0.2.12 }', '  rs3: { address: 192.0.2.13 }'].join('\n'),
      ['        - { host: rs1 }', '        - { host: rs2 }', '        - { host: rs3 }'].join('\n'),
    );
    expect(clients.get('rs1')).toEqual(['192.0.2.11', '192.0.2.12', '192.0.2.13']);
    expect(clients.get('rs2')).toEqual(['192.0.2.11', '192.0.2.12', '192.0.2.13']);
  });

  it('a management LAN where the stores bind: the real servers by their inventory address there too, the store itself included', () => {
    const clients = storeClients(
      ['  dir1: { address: 192.0.2.10 }', '  rs1: { address: 198.18.0.11 }', '  rs2: { address: 198.18.0.12 }', '  rs3: { address: 198.18.0.13 }'].join('\n'),
      ['        - { host: rs1, address: 192.0.2.11 }', '        - { host: rs2, address: 192.0.2.12 }', '        - { host: rs3, address: 192.0.2.13 }'].join('\n'),
    );
    const all = ['192.0.2.11', '192.0.2.12', '192.0.2.13', '198.18.0.11', '198.18.0.12', '198.18.0.13'];
    expect(clients.get('rs1')).toEqual(all);
    expect(clients.get('rs2')).toEqual(all);
  });

  it("a service's sorry server, which serves its pages while every real server is down", () => {
    const clients = storeClients(
      ['  dir1: { address: 192.0.2.10 }', '  rs1: { address: 192.0.2.11 }', '  rs2: { address: 192.0.2.12 }', '  rs3: { address: 192.0.2.13 }'].join('\n'),
      ['        - { host: rs1 }', '        - { host: rs2 }', '        - { host: rs3 }'].join('\n'),
      '      sorry_server: { address: 192.0.2.99 }\n',
    );
    expect(clients.get('rs1')).toEqual(['192.0.2.11', '192.0.2.12', '192.0.2.13', '192.0.2.99']);
  });

  // A NAT director that is a store copies from the others over the inside network, from its dip:
  // its inventory address alone let in, its copier's connections timed out and it opened empty.
  it("a NAT director that is a store: the other stores let it in from its dip, where its route to them starts", () => {
    const source = readFileSync(join(import.meta.dirname, '../../inventories/lab-nat.yaml'), 'utf8');
    const file = join(work, 'lab-nat-sessions.yaml');
    writeFileSync(file, `${source.replace(/\n*$/, '')}\n  sessions:\n    hosts: [director, rs1]\n`);
    const inventory = loadInventory(file);
    const rs1 = (hostVars(inventory, 'rs1').session_store_config as { clients: string[] }).clients;
    expect(rs1).toContain('198.18.10.1');
    expect(rs1).toContain('192.0.2.10');
  });
});
