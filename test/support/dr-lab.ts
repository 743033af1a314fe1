import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { createLab, type Lab, type LabSpec } from '../../src/lab/netns/index.js';

// A DR cluster's control plane on network-namespace hosts: a router between a client subnet and
// the LAN, two real servers. (The director's IPVS needs a kernel this machine lacks; the qemu
// lab proves it.) The inventory points lvsprov at the lab's key and known_hosts.

export const VIP = '198.51.100.50';

/** Router between the client subnet and the LAN, and two real servers on the LAN. */
export function drLabSpec(name: string): LabSpec {
  return {
    name,
    subnets: [
      { name: 'client', cidr: '203.0.113.0/24', controlAddress: '203.0.113.254' },
      { name: 'lan', cidr: '192.0.2.0/24', controlAddress: '192.0.2.254' },
    ],
    hosts: [
      { name: 'router', interfaces: [{ subnet: 'client', address: '203.0.113.1' }, { subnet: 'lan', address: '192.0.2.1' }] },
      { name: 'rs1', interfaces: [{ subnet: 'lan', address: '192.0.2.11' }] },
      { name: 'rs2', interfaces: [{ subnet: 'lan', address: '192.0.2.12' }] },
    ],
  };
}

export async function startDrLab(name: string): Promise<{ lab: Lab; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), `lvsprov-${name}-`));
  const lab = await createLab(drLabSpec(name), join(dir, 'lab'));
  return { lab, dir };
}

export function drInventory(lab: Lab, overrides: { knownHosts?: string; weights?: [number, number] } = {}): Record<string, unknown> {
  const [w1, w2] = overrides.weights ?? [2, 4];
  return {
    name: 'it-dr',
    ssh: { user: 'root', private_key: lab.clientKeyPath, known_hosts: overrides.knownHosts ?? lab.knownHostsPath, agent: false, connect_timeout: 10 },
    groups: { routers: { hosts: ['router'], vars: { lan_interface: 'eth1' } }, directors: { hosts: ['director'] }, realservers: { hosts: ['rs1', 'rs2'] } },
    hosts: {
      // Addresses as the control namespace reaches them: the router by its client-side address.
      router: { address: '203.0.113.1' },
      director: { address: '192.0.2.10' },
      rs1: { address: '192.0.2.11' },
      rs2: { address: '192.0.2.12' },
    },
    lvs: {
      vips: { web: { address: VIP } },
      services: [{ vip: 'web', port: 80, scheduler: 'wrr', forwarding: 'dr', real_servers: [{ host: 'rs1', weight: w1 }, { host: 'rs2', weight: w2 }] }],
    },
  };
}

export function writeInventory(dir: string, file: string, inventory: Record<string, unknown>): string {
  const path = join(dir, file);
  writeFileSync(path, stringify(inventory));
  return path;
}
