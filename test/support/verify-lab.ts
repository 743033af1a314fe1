import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, type Lab, type LabSpec } from '../../src/lab/netns/index.js';

// A client-side view of a DR cluster on network-namespace hosts: a client on its own subnet, a
// router between it and the LAN, a "director" (a plain host: this kernel has no IPVS) and two real
// servers. Default routes are lab wiring, not lvsprov's job, so they are set here by hand.

export const VIP = '198.51.100.50';
export const RIP = { rs1: '192.0.2.11', rs2: '192.0.2.12' } as const;

export const verifyLabSpec = (name: string): LabSpec => ({
  name,
  subnets: [
    { name: 'client', cidr: '203.0.113.0/24', controlAddress: '203.0.113.254' },
    { name: 'lan', cidr: '192.0.2.0/24', controlAddress: '192.0.2.254' },
  ],
  hosts: [
    { name: 'client', interfaces: [{ subnet: 'client', address: '203.0.113.100' }] },
    { name: 'router', interfaces: [{ subnet: 'client', address: '203.0.113.1' }, { subnet: 'lan', address: '192.0.2.1' }] },
    { name: 'director', interfaces: [{ subnet: 'lan', address: '192.0.2.10' }] },
    { name: 'rs1', interfaces: [{ subnet: 'lan', address: RIP.rs1 }] },
    { name: 'rs2', interfaces: [{ subnet: 'lan', address: RIP.rs2 }] },
  ],
});

export async function startVerifyLab(name: string): Promise<{ lab: Lab; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), `lvsprov-${name}-`));
  const lab = await createLab(verifyLabSpec(name), join(dir, 'lab'));
  await wireRoutes(lab);
  return { lab, dir };
}

export async function wireRoutes(lab: Lab): Promise<void> {
  const routes: Array<[string, string]> = [
    ['client', '203.0.113.1'],
    ['director', '192.0.2.1'],
    ['rs1', '192.0.2.1'],
    ['rs2', '192.0.2.1'],
  ];
  for (const [host, via] of routes) {
    const result = await lab.exec(host, ['ip', 'route', 'replace', 'default', 'via', via]);
    if (result.code !== 0) throw new Error(`${host}: default route via ${via}: ${result.stderr}`);
  }
}

export function verifyInventory(lab: Lab, weights: readonly [number, number] = [1, 2], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'it-verify',
    ssh: { user: 'root', private_key: lab.clientKeyPath, known_hosts: lab.knownHostsPath, agent: false, connect_timeout: 10 },
    groups: {
      routers: { hosts: ['router'], vars: { lan_interface: 'eth1' } },
      directors: { hosts: ['director'] },
      realservers: { hosts: ['rs1', 'rs2'] },
      clients: { hosts: ['client'] },
    },
    hosts: {
      client: { address: '203.0.113.100' },
      router: { address: '203.0.113.1' },
      director: { address: '192.0.2.10' },
      rs1: { address: RIP.rs1 },
      rs2: { address: RIP.rs2 },
    },
    lvs: {
      vips: { web: { address: VIP } },
      services: [
        { name: 'web', vip: 'web', port: 80, scheduler: 'wrr', forwarding: 'dr', real_servers: [{ host: 'rs1', weight: weights[0] }, { host: 'rs2', weight: weights[1] }] },
      ],
    },
    ...extra,
  };
}
