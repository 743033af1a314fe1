import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/config/inventory.js';
import { ConfigError, formatProblem } from '../../src/errors.js';
import { clusterTopology, labKnownHosts, readyInventory } from '../../src/lab/cluster/index.js';
import { topologyScript, uplinkScript } from '../../src/lab/cluster/guest-scripts.js';
import { describeMissing, missingPrerequisites } from '../../src/lab/cluster/prerequisites.js';
import { parseLabSpec } from '../../src/lab/netns/spec.js';
import { main } from '../../src/cli/main.js';

// The pure part of `lvsprov lab up`: which lab an inventory implies, which inventories it
// refuses and why, and the files and scripts it writes. The lab itself runs in test/e2e.

const inventories = join(import.meta.dirname, '../../inventories');
const scratch = mkdtempSync(join(tmpdir(), 'lvsprov-lab-cluster-'));
let counter = 0;
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function inventoryFrom(text: string) {
  const file = join(scratch, `inventory-${(counter += 1)}.yaml`);
  writeFileSync(file, text);
  return { file, inventory: loadInventory(file) };
}

function problems(text: string): string[] {
  const { inventory } = inventoryFrom(text);
  try {
    clusterTopology(inventory);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  throw new Error('expected the inventory to be refused');
}

const shipped = (name: string) => clusterTopology(loadInventory(join(inventories, `${name}.yaml`)));
const interfacesOf = (topology: ReturnType<typeof shipped>, host: string) =>
  topology.spec.hosts.find((candidate) => candidate.name === host)?.interfaces.map((iface) => `${iface.device} ${iface.address}`);

describe('the lab an inventory implies', () => {
  it('DR: router on the client subnet and the LAN (on lan_interface), everyone else on the LAN routed through it', () => {
    const topology = shipped('lab-dr');
    expect(topology.spec.subnets.map((subnet) => `${subnet.cidr} ${subnet.controlAddress}`)).toEqual(['203.0.113.0/24 203.0.113.254', '192.0.2.0/24 192.0.2.254']);
    expect(interfacesOf(topology, 'router')).toEqual(['eth1 192.0.2.1', 'eth0 203.0.113.1']);
    expect(interfacesOf(topology, 'director')).toEqual(['eth0 192.0.2.10']);
    expect(interfacesOf(topology, 'client')).toEqual(['eth0 203.0.113.100']);
    expect(topology.client).toEqual({ name: 'client', addresses: ['203.0.113.100', '203.0.113.101'], gateway: '203.0.113.1' });
    expect(topology.defaultRoutes).toEqual([
      { host: 'director', via: '192.0.2.1' },
      { host: 'rs1', via: '192.0.2.1' },
      { host: 'rs2', via: '192.0.2.1' },
      { host: 'client', via: '203.0.113.1' },
    ]);
    expect(topology.extraAddresses).toEqual([{ host: 'client', device: 'eth0', cidr: '203.0.113.101/24' }]);
    // The netns lab accepts it as it is.
    expect(() => parseLabSpec(topology.spec)).not.toThrow();
  });

  it('TUN: the real servers subnet gets a router port of its own, so the tunnel and the replies go through it', () => {
    const topology = shipped('lab-tun');
    expect(interfacesOf(topology, 'router')).toEqual(['eth1 192.0.2.1', 'eth0 203.0.113.1', 'eth2 198.51.100.1']);
    expect(topology.defaultRoutes).toContainEqual({ host: 'rs1', via: '198.51.100.1' });
    expect(() => parseLabSpec(topology.spec)).not.toThrow();
  });

  it('NAT: the private subnet holds the DIP and the real servers, has no router, and its hosts get no default route from the lab', () => {
    const topology = shipped('lab-nat');
    expect(interfacesOf(topology, 'router')).toEqual(['eth1 192.0.2.1', 'eth0 203.0.113.1']);
    expect(interfacesOf(topology, 'director')).toEqual(['eth0 192.0.2.10', 'eth1 198.18.10.1']);
    expect(topology.spec.subnets.map((subnet) => subnet.cidr)).toContain('198.18.10.0/24');
    expect(topology.defaultRoutes.map((route) => route.host)).toEqual(['director', 'client']);
    expect(() => parseLabSpec(topology.spec)).not.toThrow();
  });

  it('a router given its LAN address gets .1 of the client subnet, and a host called client pushes the lab client aside', () => {
    const { inventory } = inventoryFrom(`
groups: { routers: { hosts: [gw], vars: { lan_interface: eth0 } }, directors: { hosts: [lvs] } }
hosts: { gw: { address: 192.0.2.1 }, lvs: { address: 192.0.2.10 }, client: { address: 192.0.2.20 } }
`);
    const topology = clusterTopology(inventory);
    expect(interfacesOf(topology, 'gw')).toEqual(['eth0 192.0.2.1', 'eth1 203.0.113.1']);
    expect(topology.client.name).toBe('labclient');
  });
});

describe('inventories a lab refuses, each problem at its YAML node', () => {
  const base = (hosts: string, vips = '{}') => `
groups: { routers: { hosts: [router], vars: { lan_interface: eth1 } }, directors: { hosts: [director] } }
hosts:
  router: { address: 203.0.113.1 }
  director: { address: 192.0.2.10 }
${hosts}
lvs: { vips: ${vips} }
`;

  it('addresses outside the documentation and benchmarking ranges', () => {
    const found = problems(base('  rs1: { address: 10.1.2.3 }', '{ web: { address: 172.16.0.5 } }'));
    expect(found).toEqual([
      expect.stringMatching(/:6:\d+: hosts\.rs1\.address: host rs1's address 10\.1\.2\.3 is outside the lab ranges 192\.0\.2\.0\/24, 198\.51\.100\.0\/24, 203\.0\.113\.0\/24, 198\.18\.0\.0\/15/),
      expect.stringMatching(/lvs\.vips\.web\.address: VIP web 172\.16\.0\.5 is outside the lab ranges/),
    ]);
  });

  it("qemu's own network, the client subnet for anyone but the router, and a VIP on the client subnet", () => {
    const found = problems(base('  rs1: { address: 198.18.0.20 }\n  rs2: { address: 203.0.113.7 }', '{ web: { address: 203.0.113.50 } }'));
    expect(found).toEqual([
      expect.stringContaining("hosts.rs1.address: host rs1's address 198.18.0.20: 198.18.0.0/24 is qemu's network inside the lab guest"),
      expect.stringContaining("hosts.rs2.address: 203.0.113.7 is in 203.0.113.0/24, the lab's client subnet; only the router may have an address there"),
      expect.stringContaining('lvs.vips.web.address: VIP 203.0.113.50 is in the client subnet 203.0.113.0/24'),
    ]);
  });

  it('a dip outside the ranges, a host name no namespace can carry, and a router without lan_interface', () => {
    expect(problems(base('  rs1: { address: 192.0.2.11, vars: { dip: 10.0.0.1 } }'))).toEqual([expect.stringContaining("hosts.rs1.vars.dip: host rs1's dip 10.0.0.1 is outside the lab ranges")]);
    expect(problems(base('  Web_1: { address: 192.0.2.11 }'))).toEqual([expect.stringContaining('lab host names must be hostname labels')]);
    expect(problems(base('').replace('vars: { lan_interface: eth1 } ', ''))).toEqual([expect.stringContaining('the router router needs the var lan_interface')]);
  });

  it('a misspelt lan_interface is named at its own key, with the name meant (as validate does)', () => {
    const found = problems(base('').replace('lan_interface: eth1', 'lan_interfce: eth1'));
    expect(found).toEqual([expect.stringMatching(/:2:\d+: groups\.routers\.vars\.lan_interfce: the router router needs the var lan_interface .*; lan_interfce is close: did you mean `lan_interface`\?/)]);
  });

  it('lvsprov lab up stops at the inventory, exit 4, before looking for qemu or booting anything', async () => {
    const { file } = inventoryFrom(base('  rs1: { address: 10.1.2.3 }'));
    const out: string[] = [];
    const err: string[] = [];
    const dir = join(scratch, 'never-made');
    const code = await main(['node', 'lvsprov', 'lab', 'up', '-i', file, '--dir', dir], { out: (line) => out.push(line), err: (line) => err.push(line), isTTY: false });
    expect(code).toBe(4);
    expect(err.join('\n')).toContain('10.1.2.3 is outside the lab ranges');
    expect(out).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });

  it('no router at all', () => {
    expect(problems('hosts: { director: { address: 192.0.2.10 } }\n')).toEqual([expect.stringContaining('a lab needs exactly one host in group routers')]);
  });
});

describe('files and scripts lab up writes', () => {
  const ssh = { privateKey: './lab_ed25519', knownHosts: './known_hosts', jumpPort: 40001, jumpKey: './guest/ssh/client_key', connectTimeout: 300 };
  const client = { name: 'client', address: '203.0.113.100' };

  it('the ready inventory keeps the user inventory, comments included, and swaps in the lab connection', () => {
    const source = '# my cluster\nname: c\nssh: { user: deploy, become: true }\nhosts:\n  a: { address: 192.0.2.10, ssh: { port: 2222 } } # web\n';
    const text = readyInventory(source, '/src/c.yaml', ssh, client);
    expect(text).toContain('# my cluster');
    expect(text).toContain('# web');
    expect(text).toContain('lvsprov lab up');
    expect(parse(text)).toEqual({
      name: 'c',
      ssh: {
        user: 'root',
        private_key: './lab_ed25519',
        known_hosts: './known_hosts',
        agent: false,
        connect_timeout: 300,
        jump: { address: '127.0.0.1', port: 40001, user: 'root', private_key: './guest/ssh/client_key', known_hosts: './known_hosts' },
      },
      hosts: { a: { address: '192.0.2.10' }, client: { address: '203.0.113.100' } },
      groups: { clients: { hosts: ['client'] } },
    });
  });

  it('the lab client is the first host of group clients, so verify sends its requests from behind the router', () => {
    const source = readFileSync(join(inventories, 'lab-dr.yaml'), 'utf8');
    const { inventory } = inventoryFrom(readyInventory(source, join(inventories, 'lab-dr.yaml'), ssh, client));
    expect(inventory.groups.get('clients')).toEqual(['client']);
    expect(inventory.data.hosts['client']?.address).toBe('203.0.113.100');
    // The roles' groups are untouched: no play of the site playbook reaches the client.
    expect(inventory.groups.get('realservers')).toEqual(['rs1', 'rs2']);
  });

  it('a clients group with vars only keeps them and gets the lab client as its host', () => {
    const source = 'hosts:\n  a: { address: 192.0.2.10 }\ngroups:\n  clients:\n    vars: { web_port: 8080 }\n';
    const { inventory } = inventoryFrom(readyInventory(source, '/src/c.yaml', ssh, client));
    expect(inventory.groups.get('clients')).toEqual(['client']);
    expect(inventory.data.groups['clients']?.vars).toEqual({ web_port: 8080 });
  });

  it('a clients group of the inventory keeps its hosts, after the lab client', () => {
    const source = 'hosts:\n  a: { address: 192.0.2.10 }\ngroups:\n  clients:\n    hosts: [a]\n';
    const { inventory } = inventoryFrom(readyInventory(source, '/src/c.yaml', ssh, client));
    expect(inventory.groups.get('clients')).toEqual(['client', 'a']);
  });

  it('known_hosts holds the jump host on its loopback port and every host on every address', () => {
    const text = labKnownHosts([{ addresses: ['192.0.2.1', '203.0.113.1'], publicKey: 'ssh-ed25519 AAAA1' }], { port: 40001, publicKey: 'ssh-ed25519 AAAAJ' });
    expect(text).toBe('[127.0.0.1]:40001 ssh-ed25519 AAAAJ\n192.0.2.1 ssh-ed25519 AAAA1\n203.0.113.1 ssh-ed25519 AAAA1\n');
  });

  it('the topology script adds default routes and the second client address in the hosts namespaces', () => {
    const script = topologyScript(shipped('lab-dr'), (host) => `lab-${host}`);
    expect(script).toContain("ip -n lab-rs1 route replace default via 192.0.2.1");
    expect(script).toContain("ip -n lab-client addr add 203.0.113.101/24 dev eth0");
  });

  it('the uplink script finds the NIC by MAC and starts the jump sshd inside the control namespace', () => {
    const script = uplinkScript({ controlNamespace: 'lab-control', mac: '52:54:00:4c:41:42', address: '198.18.0.15', qemuHost: '198.18.0.2', sshdConfig: '/x/sshd_config', sshdLog: '/run/j.log' });
    expect(script).toContain("= 52:54:00:4c:41:42 ]");
    expect(script).toContain('ip link set dev "$nic" netns lab-control');
    expect(script).toContain('ip netns exec lab-control /usr/sbin/sshd -f /x/sshd_config');
  });

  it('missing prerequisites come with one apt-get command', () => {
    const missing = missingPrerequisites(false, (tool) => (tool === 'qemu-system-x86_64' || tool === 'busybox' ? undefined : `/usr/bin/${tool}`));
    expect(describeMissing(missing)).toEqual([
      expect.stringMatching(/^lvsprov lab cannot run here; missing: root .*, qemu-system-x86_64 \(package qemu-system-x86\), busybox \(package busybox-static\)$/),
      'install with: apt-get install -y qemu-system-x86 busybox-static',
      'run lvsprov lab as root (e.g. with sudo)',
    ]);
    expect(missingPrerequisites(true, (tool) => `/usr/bin/${tool}`)).toEqual([]);
  });
});
