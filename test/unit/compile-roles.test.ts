import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile, type CompiledTask } from '../../src/config/compile.js';
import { loadInventory } from '../../src/config/inventory.js';

// What the shipped roles turn the example inventories into, host by host: the LVS knowledge of
// design.md as concrete, validated task specs. No host is contacted.

const root = join(import.meta.dirname, '../..');
const compileExample = (name: string) => compile(loadInventory(join(root, 'inventories', `${name}.yaml`)), join(root, 'playbooks/site.yaml'));
const byType = (tasks: readonly CompiledTask[] | undefined, type: string) => (tasks ?? []).filter((task) => task.type === type).map((task) => task.spec);

describe('site playbook on the DR lab of the seeds', () => {
  const run = compileExample('dr-lab');

  it('router: forwarding and a host route for the VIP towards the LAN interface', () => {
    const tasks = run.hosts.get('router');
    expect(byType(tasks, 'sysctl')).toEqual([{ file: '/etc/sysctl.d/90-lvsprov-router.conf', values: { 'net.ipv4.ip_forward': '1' }, persist: true }]);
    expect(byType(tasks, 'route')).toEqual([expect.objectContaining({ destination: '192.168.51.11/32', device: 'eth1', state: 'present' })]);
  });

  it('director: modules for IPVS and wrr, the VIP labelled by its address (eth0:c0a8330b), and the wrr service with weights 2 and 4 by direct routing', () => {
    const tasks = run.hosts.get('director');
    expect(byType(tasks, 'kmod').map((spec) => (spec as { name: string }).name)).toEqual(['ip_vs', 'ip_vs_wrr']);
    expect(byType(tasks, 'address')).toEqual([expect.objectContaining({ address: '192.168.51.11', prefix: 32, device: 'eth0', label: 'eth0:c0a8330b' })]);
    // Connections let go of quiesced and removed servers on every director (drains, port reuse).
    expect(byType(tasks, 'sysctl')).toEqual([
      { file: '/etc/sysctl.d/90-lvsprov-director-ipvs.conf', persist: true, values: { 'net.ipv4.vs.expire_quiescent_template': '1', 'net.ipv4.vs.expire_nodest_conn': '1', 'net.ipv4.vs.conn_reuse_mode': '3' } },
    ]);
    const [ipvs] = byType(tasks, 'ipvs') as Array<{ services: unknown[] }>;
    expect(ipvs?.services).toEqual([
      expect.objectContaining({
        protocol: 'tcp',
        address: '192.168.51.11',
        port: 80,
        scheduler: 'wrr',
        real_servers: [
          expect.objectContaining({ address: '192.168.118.11', port: 80, forwarding: 'dr', weight: 2 }),
          expect.objectContaining({ address: '192.168.118.12', port: 80, forwarding: 'dr', weight: 4 }),
        ],
      }),
    ]);
  });

  it('real servers: ARP suppression on all and lo, the VIP on lo:0, no TUN or NAT tasks', () => {
    const tasks = run.hosts.get('rs1');
    expect(byType(tasks, 'sysctl')).toEqual([
      {
        file: '/etc/sysctl.d/90-lvsprov-realserver-dr.conf',
        persist: true,
        values: {
          'net.ipv4.conf.all.arp_ignore': '1',
          'net.ipv4.conf.all.arp_announce': '2',
          'net.ipv4.conf.lo.arp_ignore': '1',
          'net.ipv4.conf.lo.arp_announce': '2',
        },
      },
    ]);
    expect(byType(tasks, 'address')).toEqual([expect.objectContaining({ address: '192.168.51.11', device: 'lo', label: 'lo:0' })]);
    expect(byType(tasks, 'kmod')).toEqual([]);
    expect(byType(tasks, 'arptables')).toEqual([]);
    expect(byType(tasks, 'file')).toEqual([
      expect.objectContaining({ path: '/etc/lvsprov/realserver-dr.ip', content: expect.stringMatching(/^address replace 192\.168\.51\.11\/32 dev lo label lo:0$/m) }),
      expect.objectContaining({ path: '/var/www/lvsprov/index.html', content: expect.stringContaining('<h1>rs1</h1>') }),
    ]);
    // The VIP comes back after a reboot: that file, fed to ip once the network is up.
    expect(byType(tasks, 'at_boot')).toEqual([
      { name: 'lvsprov-realserver-dr', description: 'the addresses and routes of realserver-dr (ip -batch /etc/lvsprov/realserver-dr.ip)', command: ['/sbin/ip', '-force', '-batch', '-'], input: '/etc/lvsprov/realserver-dr.ip', stage: 'network' },
    ]);
  });
});

describe('one checked spec for what hosts share', () => {
  const run = compileExample('dr-lab');
  const bootSpecs = (host: string) => (run.hosts.get(host) ?? []).filter((task) => task.name.includes('at boot')).map((task) => task.spec);

  it('real servers with the same VIPs share their boot file and hook, checked once and frozen', () => {
    const [rs1File, rs1Hook] = bootSpecs('rs1');
    const [rs2File, rs2Hook] = bootSpecs('rs2');
    expect(rs1File).toMatchObject({ path: '/etc/lvsprov/realserver-dr.ip' });
    expect(rs2File).toBe(rs1File);
    expect(rs2Hook).toBe(rs1Hook);
    expect(Object.isFrozen(rs1File)).toBe(true);
    expect(Object.isFrozen(rs1Hook)).toBe(true);
  });

  it('a boot file that differs is a spec of its own', () => {
    const [directorFile] = bootSpecs('director');
    const [rs1File] = bootSpecs('rs1');
    expect(directorFile).toMatchObject({ path: '/etc/lvsprov/director.ip' });
    expect(directorFile).not.toBe(rs1File);
  });
});

describe('site playbook on the TUN lab of the seeds', () => {
  const run = compileExample('tun-lab');

  it('director sends by IPIP (-i) with rr', () => {
    const [ipvs] = byType(run.hosts.get('balancer'), 'ipvs') as Array<{ services: Array<{ scheduler: string; real_servers: Array<{ forwarding: string }> }> }>;
    expect(ipvs?.services[0]?.scheduler).toBe('rr');
    expect(ipvs?.services[0]?.real_servers.map((server) => server.forwarding)).toEqual(['tun', 'tun']);
  });

  it('real servers: ipip, tunl0 up with the VIP, rp_filter off, arptables DROP and mangle to their own address', () => {
    const tasks = run.hosts.get('rs2');
    expect(byType(tasks, 'kmod')).toEqual([expect.objectContaining({ name: 'ipip' })]);
    expect(byType(tasks, 'link')).toEqual([expect.objectContaining({ device: 'tunl0', state: 'up' })]);
    expect(byType(tasks, 'address')).toEqual([expect.objectContaining({ address: '172.25.67.100', prefix: 32, device: 'tunl0' })]);
    expect(byType(tasks, 'sysctl')).toEqual([
      expect.objectContaining({ values: { 'net.ipv4.conf.tunl0.rp_filter': '0', 'net.ipv4.conf.all.rp_filter': '0' } }),
    ]);
    expect(byType(tasks, 'arptables')).toEqual([
      expect.objectContaining({
        rules: [
          { chain: 'INPUT', destination: '172.25.67.100', target: 'DROP' },
          { chain: 'OUTPUT', source: '172.25.67.100', target: 'mangle', mangle_source: '172.25.67.3' },
        ],
      }),
    ]);
  });
});
