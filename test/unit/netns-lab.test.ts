import { describe, expect, it } from 'vitest';
import { isLabNetwork } from '../../src/lab/netns/lab-ranges.js';
import { parseNetwork } from '../../src/net/ipv4.js';
import { flatLabSpec } from '../../src/lab/netns/flat-spec.js';
import { controlBatch, hostBatch, namespacesBatch } from '../../src/lab/netns/ip-batch.js';
import { layoutLab } from '../../src/lab/netns/layout.js';
import { mapLimit } from '../../src/lab/netns/process.js';
import { parseLabSpec, type LabSpec } from '../../src/lab/netns/spec.js';
import { knownHostsText, parseKeyscan, publicKeyBody, sshdConfig } from '../../src/lab/netns/ssh-files.js';

// The pure half of the netns lab: spec validation, naming, the ip batches and SSH file text.
// The integration suite proves the same things against real namespaces and sshd.

const spec: LabSpec = {
  name: 'lab1',
  subnets: [
    { name: 'client', cidr: '203.0.113.0/24', controlAddress: '203.0.113.254' },
    { name: 'lan', cidr: '192.0.2.0/24', controlAddress: '192.0.2.254' },
  ],
  hosts: [
    { name: 'router', interfaces: [{ subnet: 'client', address: '203.0.113.1' }, { subnet: 'lan', address: '192.0.2.1' }] },
    { name: 'rs1', interfaces: [{ subnet: 'lan', address: '192.0.2.11', device: 'lan0' }] },
  ],
};

function withChange(change: (copy: LabSpec) => void): LabSpec {
  const copy = structuredClone(spec);
  change(copy);
  return copy;
}

describe('lab spec', () => {
  it('accepts a valid spec unchanged', () => expect(parseLabSpec(spec)).toEqual(spec));

  const rejections: Array<[string, (copy: LabSpec) => void, RegExp]> = [
    ['a private range', (s) => void ((s.subnets[1] as { cidr: string }).cidr = '10.1.0.0/24'), /subnets\.1\.cidr: must lie inside one of the lab ranges/],
    ['a subnet wider than its lab range', (s) => void ((s.subnets[1] as { cidr: string }).cidr = '192.0.0.0/16'), /subnets\.1\.cidr: must lie inside/],
    ['host bits in a cidr', (s) => void ((s.subnets[1] as { cidr: string }).cidr = '192.0.2.7/24'), /subnets\.1\.cidr: must have no host bits set/],
    ['overlapping subnets', (s) => void ((s.subnets[1] as { cidr: string }).cidr = '203.0.113.0/25'), /subnets\.1\.cidr: overlaps subnet client/],
    ['a control address outside its subnet', (s) => void ((s.subnets[0] as { controlAddress: string }).controlAddress = '192.0.2.9'), /subnets\.0\.controlAddress: must be a host address inside/],
    ['a broadcast address', (s) => void ((s.hosts[1]?.interfaces[0] as { address: string }).address = '192.0.2.255'), /hosts\.1\.interfaces\.0\.address: must be a host address in subnet lan/],
    ['an address of another subnet', (s) => void ((s.hosts[1]?.interfaces[0] as { address: string }).address = '203.0.113.5'), /hosts\.1\.interfaces\.0\.address/],
    ['a duplicate address', (s) => void ((s.hosts[1]?.interfaces[0] as { address: string }).address = '192.0.2.1'), /already used by host router/],
    ['the control address on a host', (s) => void ((s.hosts[1]?.interfaces[0] as { address: string }).address = '192.0.2.254'), /already used by the control namespace/],
    ['an unknown subnet', (s) => void ((s.hosts[1]?.interfaces[0] as { subnet: string }).subnet = 'dmz'), /no subnet named dmz/],
    ['a duplicate host', (s) => void ((s.hosts[1] as { name: string }).name = 'router'), /host router is defined twice/],
    ['a host named control', (s) => void ((s.hosts[1] as { name: string }).name = 'control'), /names the control namespace/],
    ['a dash in the lab name', (s) => void (s.name = 'lab-1'), /^ {2}name: /m],
    ['a duplicate device', (s) => void ((s.hosts[0]?.interfaces[1] as { device?: string }).device = 'eth0'), /device eth0 is used twice/],
    ['a shell word as an address', (s) => void ((s.hosts[1]?.interfaces[0] as { address: string }).address = '192.0.2.11;reboot'), /must be an IPv4 address/],
    ['an unknown key', (s) => Object.assign(s, { gateway: '192.0.2.1' }), /gateway/],
  ];
  for (const [what, change, message] of rejections) {
    it(`rejects ${what}`, () => expect(() => parseLabSpec(withChange(change))).toThrow(message));
  }

  it('reports every problem at once', () => {
    const bad = withChange((s) => {
      s.name = 'Lab';
      (s.hosts[1] as { name: string }).name = 'router';
    });
    expect(() => parseLabSpec(bad)).toThrow(/name: .*\n.*host router is defined twice/s);
  });
});

describe('lab layout and ip batches', () => {
  const layout = layoutLab(parseLabSpec(spec));

  it('prefixes every namespace with the lab name and numbers bridges and peers', () => {
    expect(layout.controlNamespace).toBe('lab1-control');
    expect(layout.hosts.map((host) => host.namespace)).toEqual(['lab1-router', 'lab1-rs1']);
    expect(layout.hosts[0]?.interfaces.map((iface) => [iface.device, iface.peer, iface.bridge])).toEqual([
      ['eth0', 'v0-0', 'br0'],
      ['eth1', 'v0-1', 'br1'],
    ]);
    expect(layout.hosts[1]?.interfaces[0]).toMatchObject({ device: 'lan0', peer: 'v1-0', bridge: 'br1', prefixLength: 24 });
  });

  it('builds the control namespace: bridges with control addresses, veths straight into hosts', () => {
    expect(controlBatch(layout)).toBe(
      [
        'link set lo up',
        'link add br0 type bridge',
        'addr add 203.0.113.254/24 dev br0',
        'link set br0 up',
        'link add br1 type bridge',
        'addr add 192.0.2.254/24 dev br1',
        'link set br1 up',
        'link add v0-0 type veth peer name eth0 netns lab1-router',
        'link set v0-0 master br0 up',
        'link add v0-1 type veth peer name eth1 netns lab1-router',
        'link set v0-1 master br1 up',
        'link add v1-0 type veth peer name lan0 netns lab1-rs1',
        'link set v1-0 master br1 up',
        '',
      ].join('\n'),
    );
  });

  it('addresses a host inside its own namespace', () => {
    expect(hostBatch(layout.hosts[0] as (typeof layout.hosts)[number])).toBe(
      'link set lo up\naddr add 203.0.113.1/24 dev eth0\nlink set eth0 up\naddr add 192.0.2.1/24 dev eth1\nlink set eth1 up\n',
    );
    expect(namespacesBatch('delete', ['lab1-control', 'lab1-rs1'])).toBe('netns delete lab1-control\nnetns delete lab1-rs1\n');
  });

  it('lays out large labs on 198.18.0.0/16 across octet boundaries', () => {
    const big = parseLabSpec(flatLabSpec('big', 1000));
    const addresses = big.hosts.map((host) => host.interfaces[0]?.address);
    expect(addresses.slice(0, 2)).toEqual(['198.18.0.10', '198.18.0.11']);
    expect(addresses[246]).toBe('198.18.1.0');
    expect(addresses.at(-1)).toBe('198.18.3.241');
    expect(new Set(addresses).size).toBe(1000);
    expect(layoutLab(big).hosts.at(-1)?.interfaces[0]?.peer).toBe('v999-0');
  });

  it('knows the lab ranges', () => {
    expect(isLabNetwork(parseNetwork('198.19.255.0/24'))).toBe(true);
    expect(isLabNetwork(parseNetwork('198.20.0.0/24'))).toBe(false);
    expect(isLabNetwork(parseNetwork('198.18.0.0/15'))).toBe(true);
    expect(isLabNetwork(parseNetwork('198.16.0.0/14'))).toBe(false);
    expect(() => parseNetwork('198.18.0.0/14')).toThrow(/host bits set; the network is 198.16.0.0\/14/);
  });
});

describe('ssh files', () => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKlydwfhONYL2lAs/QomJWR9h/7GVp5/Nzlod93QMhUk';

  it('keeps the type and blob of a public key and refuses anything else', () => {
    expect(publicKeyBody(`${key} rs1@lab1\n`)).toBe(key);
    expect(() => publicKeyBody('ssh-ed25519 AAAA$(reboot)')).toThrow(/not an OpenSSH public key/);
    expect(() => publicKeyBody('AAAAC3NzaC1lZDI1NTE5')).toThrow(/not an OpenSSH public key/);
  });

  it('lists every address of every host in known_hosts', () => {
    expect(knownHostsText([{ addresses: ['203.0.113.1', '192.0.2.1'], publicKey: key }])).toBe(`203.0.113.1 ${key}\n192.0.2.1 ${key}\n`);
  });

  it('reads keys out of ssh-keyscan output', () => {
    expect(parseKeyscan(`# 192.0.2.12:22 SSH-2.0-OpenSSH_9.2p1\n192.0.2.12 ${key}\n`)).toEqual([key]);
  });

  it('configures key-only root logins without PAM or DNS', () => {
    const config = sshdConfig();
    for (const line of ['PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'UsePAM no', 'UseDNS no', 'LogLevel ERROR']) {
      expect(config.split('\n')).toContain(line);
    }
  });
});

describe('mapLimit', () => {
  it('never runs more than the limit at once and keeps the order of results', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (delay) => {
      peak = Math.max(peak, ++running);
      await new Promise((resolve) => setTimeout(resolve, delay * 3));
      running--;
      return delay * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });

  it('starts nothing new after a failure but waits for what is in flight', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const attempt = mapLimit([0, 1, 2, 3, 4], 2, async (item) => {
      started.push(item);
      await new Promise((resolve) => setTimeout(resolve, item === 1 ? 30 : 5));
      if (item === 0) throw new Error('first failed');
      finished.push(item);
    });
    await expect(attempt).rejects.toThrow('first failed');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([1]);
  });
});
