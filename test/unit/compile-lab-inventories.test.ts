import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, type CompiledTask } from '../../src/config/compile.js';
import { loadInventory } from '../../src/config/inventory.js';
import type { ConfigError, ConfigProblem } from '../../src/errors.js';

// What the site playbook makes of the lab inventories the e2e tests apply, for what only they
// use: a firewall-mark service with a VIP (DR), tunnels (TUN), a DIP on a second subnet (NAT).

const root = join(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'lvsprov-lab-inventories-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const compileLab = (name: string) => compile(loadInventory(join(root, 'inventories', `${name}.yaml`)), join(root, 'playbooks/site.yaml'));
const byType = (tasks: readonly CompiledTask[] | undefined, type: string) => (tasks ?? []).filter((task) => task.type === type).map((task) => task.spec);

describe('a firewall-mark service with a VIP', () => {
  const run = compileLab('lab-dr');

  it('the director marks the VIP ports the service lists, and the IPVS service takes the mark, not the address', () => {
    const director = run.hosts.get('director');
    expect(byType(director, 'fwmark')).toEqual([
      { marks: [{ address: '198.51.100.53', ports: [80, 8080], mark: 1 }], table: 'lvsprov_fwmark', save_file: '/etc/lvsprov/fwmark.nft' },
    ]);
    const [ipvs] = byType(director, 'ipvs') as Array<{ services: Array<Record<string, unknown>> }>;
    const marked = ipvs?.services.find((service) => service.protocol === 'fwmark');
    expect(marked).toMatchObject({ fwmark: 1, scheduler: 'rr', persistence: { timeout: 300 } });
    expect(marked).not.toHaveProperty('address');
    expect(byType(director, 'address')).toContainEqual(expect.objectContaining({ address: '198.51.100.53', label: 'eth0:c6336435' }));
  });

  it('the real servers carry its VIP on lo and the router routes it', () => {
    expect(byType(run.hosts.get('rs1'), 'address')).toContainEqual(expect.objectContaining({ address: '198.51.100.53', device: 'lo' }));
    expect(byType(run.hosts.get('router'), 'route')).toContainEqual(expect.objectContaining({ destination: '198.51.100.53/32', device: 'eth1' }));
  });

  it('directors of other inventories get no fwmark task', () => {
    expect(byType(compileLab('lab-tun').hosts.get('director'), 'fwmark')).toEqual([]);
  });
});

describe('NAT lab', () => {
  it('real servers route through the DIP; the director forwards, and sends no ICMP redirects', () => {
    const run = compileLab('lab-nat');
    expect(byType(run.hosts.get('rs1'), 'route')).toEqual([expect.objectContaining({ destination: 'default', via: '198.18.10.1' })]);
    expect(byType(run.hosts.get('director'), 'sysctl')).toEqual([
      expect.objectContaining({ values: { 'net.ipv4.ip_forward': '1' } }),
      { file: '/etc/sysctl.d/90-lvsprov-director-redirects.conf', values: { 'net.ipv4.conf.all.send_redirects': '0', 'net.ipv4.conf.default.send_redirects': '0' }, persist: true },
      { file: '/etc/sysctl.d/90-lvsprov-director-redirects-eth0.conf', values: { 'net.ipv4.conf.eth0.send_redirects': '0' }, persist: true },
      expect.objectContaining({ values: { 'net.ipv4.vs.expire_quiescent_template': '1', 'net.ipv4.vs.expire_nodest_conn': '1', 'net.ipv4.vs.conn_reuse_mode': '3' } }),
    ]);
  });
});

describe('NAT director pair lab', () => {
  const run = compileLab('lab-ha-nat');

  it('the real servers route through the floating gateway, not a director of their own', () => {
    for (const host of ['rs1', 'rs2', 'rs3']) {
      expect(byType(run.hosts.get(host), 'route')).toEqual([expect.objectContaining({ destination: 'default', via: '198.18.10.1' })]);
    }
  });

  it('each director moves the VIP and the gateway in one sync group, the VIP on eth0 and the gateway on eth1', () => {
    for (const [host, state, priority] of [['dir1', 'MASTER', 254], ['dir2', 'BACKUP', 253]] as const) {
      const [keepalived] = byType(run.hosts.get(host), 'keepalived') as Array<Record<string, any>>;
      expect(keepalived?.sync_groups).toEqual([{ name: 'SG_62', instances: ['VI_61', 'VI_62'] }]);
      expect(keepalived?.instances.map((instance: Record<string, any>) => [instance.name, instance.state, instance.priority, instance.interface, instance.vips.map((vip: Record<string, unknown>) => `${vip.address}/${vip.prefix} ${vip.device}`)])).toEqual([
        ['VI_61', state, priority, 'eth0', ['198.51.100.50/32 eth0']],
        ['VI_62', state, priority, 'eth1', ['198.18.10.1/24 eth1']],
      ]);
    }
  });

  it("every address a director's VRRP adverts leave from, the VIP's and the gateway's (its dip), leads back to it: a peer a config drops is found", () => {
    const sources = ['dir1', 'dir2'].flatMap((host) => {
      const [keepalived] = byType(run.hosts.get(host), 'keepalived') as Array<{ instances: Array<{ unicast_src_ip: string }> }>;
      return (keepalived?.instances ?? []).map((instance) => [instance.unicast_src_ip, host]);
    });
    expect(sources).toEqual([['192.0.2.10', 'dir1'], ['198.18.10.2', 'dir1'], ['192.0.2.20', 'dir2'], ['198.18.10.3', 'dir2']]);
    for (const [address, host] of sources) expect(run.vrrpAddresses?.get(address as string)).toBe(host);
  });
});

describe('hosts of the inventory no play reaches', () => {
  // A director dropped from a VRRP group and left in no play is still reachable: the run may open it
  // to stop its keepalived (engine/retire-peers.ts). A host --limit leaves out is never opened.
  const playbook = join(scratch, 'directors.yaml');
  writeFileSync(playbook, '- hosts: directors\n  tasks:\n    - sysctl: {values: {net.ipv4.ip_forward: "1"}}\n');
  const inventory = loadInventory(join(root, 'inventories', 'lab-ha.yaml'));

  it('are every host outside the plays, within --limit when it is given', () => {
    expect([...(compile(inventory, playbook).unplayed ?? [])]).toEqual(['router', 'rs1', 'rs2']);
    expect([...(compile(inventory, playbook, ['dir1', 'rs1']).unplayed ?? [])]).toEqual(['rs1']);
  });
});

describe('the directors of each VIP', () => {
  // A keepalived director whose config drops a VIP that directors of another pair take in the run
  // lets it go at once (resources/keepalived/vips-elsewhere.ts): the run knows each VIP's directors.
  it("are its services' directors, one pair per VIP here", () => {
    const twoPairs = join(scratch, 'two-pairs.yaml');
    writeFileSync(
      twoPairs,
      [
        'name: two-pairs',
        'hosts: { dir1: { address: 192.0.2.10 }, dir2: { address: 192.0.2.20 }, dir3: { address: 192.0.2.30 }, dir4: { address: 192.0.2.40 }, rs1: { address: 192.0.2.11 } }',
        'groups: { directors: { hosts: [dir1, dir2, dir3, dir4] }, realservers: { hosts: [rs1] } }',
        'lvs:',
        '  ha: { virtual_router_id: 51 }',
        '  vips: { web: { address: 198.51.100.50 }, api: { address: 198.51.100.51, virtual_router_id: 52 } }',
        '  services:',
        '    - { vip: web, port: 80, directors: [dir1, dir2], health_check: { type: tcp }, real_servers: [{ host: rs1 }] }',
        '    - { vip: web, port: 443, directors: [dir2, dir1], health_check: { type: tcp }, real_servers: [{ host: rs1 }] }',
        '    - { vip: api, port: 80, directors: [dir3, dir4], health_check: { type: tcp }, real_servers: [{ host: rs1 }] }',
        '',
      ].join('\n'),
    );
    expect([...(compile(loadInventory(twoPairs), join(root, 'playbooks/site.yaml')).vipDirectors ?? [])]).toEqual([
      ['198.51.100.50', ['dir1', 'dir2']],
      ['198.51.100.51', ['dir3', 'dir4']],
    ]);
    expect([...(compileLab('lab-ha').vipDirectors ?? [])]).toEqual([['198.51.100.50', ['dir1', 'dir2']]]);
  });
});

describe('a VIP renamed in the inventory', () => {
  it('changes no task on any host: VIP labels, task names and specs come from its address, never its name', () => {
    const text = readFileSync(join(root, 'inventories', 'lab-dr.yaml'), 'utf8');
    const renamed = text.replace('    web: { address: 198.51.100.50 }', '    www: { address: 198.51.100.50 }').replace('      vip: web\n', '      vip: www\n');
    expect(renamed).not.toBe(text);
    const file = join(scratch, 'lab-dr.yaml');
    writeFileSync(file, renamed);
    const tasks = (path: string): Array<[string, readonly CompiledTask[]]> => [...compile(loadInventory(path), join(root, 'playbooks/site.yaml')).hosts];
    expect(tasks(file)).toEqual(tasks(join(root, 'inventories', 'lab-dr.yaml')));
  });
});

describe('a director whose role is refused for its variables', () => {
  it('is said once, at the variable: its services are not also said to have no role that holds them', () => {
    const text = readFileSync(join(root, 'inventories', 'lab-ha.yaml'), 'utf8');
    const wrong = text.replace('  dir2: { address: 192.0.2.20 }', '  dir2: { address: 192.0.2.20, vars: { vip_interface: 12 } }');
    expect(wrong).not.toBe(text);
    const file = join(scratch, 'lab-ha.yaml');
    writeFileSync(file, wrong);
    let problems: readonly ConfigProblem[] = [];
    try {
      compile(loadInventory(file), join(root, 'playbooks/site.yaml'));
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems.map((problem) => `${problem.path}: ${problem.message}`)).toEqual([expect.stringMatching(/^hosts\.dir2\.vars\.vip_interface: expected a network interface name/)]);
  });
});
