import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/config/inventory.js';
import { renderStatus } from '../../src/report/status-text.js';
import { parseAddresses, parseDirectorRead } from '../../src/status/director-read.js';
import { parseProcIpvs, parseRates } from '../../src/status/live-table.js';
import { directorStatus } from '../../src/status/model.js';
import type { StatusReport } from '../../src/status/report.js';
import { exitCodeForStatus } from '../../src/cli/status-run.js';

// status's pure parts against what a real lab director printed (test/fixtures/status), and the
// model built from them: which real servers are in rotation, quiesced or absent, and why.

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '../fixtures/status/lab-dr-director', name), 'utf8');
const ok = (stdout: string): { stdout: string; status: number } => ({ stdout, status: 0 });
const inventory = loadInventory(join(import.meta.dirname, '../../inventories/lab-dr.yaml'));
const hostsByAddress = new Map(Object.entries(inventory.data.hosts).map(([name, host]) => [host.address, name]));

describe('/proc/net/ip_vs', () => {
  it('reads services, persistence masks and real servers with weights and connection counts', () => {
    const table = parseProcIpvs(fixture('proc-net-ip_vs.txt'));
    expect(table.map((service) => [service.protocol, service.address, service.port, service.fwmark, service.scheduler, service.persistence?.netmask])).toEqual([
      ['tcp', '198.51.100.51', 0, 0, 'rr', '255.255.255.255'],
      ['tcp', '198.51.100.52', 80, 0, 'rr', '255.255.255.0'],
      ['tcp', '198.51.100.50', 80, 0, 'wrr', undefined],
      ['fwmark', '', 0, 1, 'rr', '255.255.255.255'],
    ]);
    expect(table[0]?.realServers).toEqual([
      { address: '192.0.2.12', port: 0, forwarding: 'dr', weight: 0, activeConns: 0, inactiveConns: 0 },
      { address: '192.0.2.11', port: 0, forwarding: 'dr', weight: 1, activeConns: 0, inactiveConns: 0 },
    ]);
  });

  it('reads counters, NAT and tunnel servers, one-packet scheduling and IPv6 services', () => {
    const text = [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port Forward Weight ActiveConn InActConn',
      'UDP  C6336435:0035 rr ops ',
      '  -> C0000215:0035      Masq    2      0          17        ',
      'TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:01BB wlc ',
      '  -> C0000216:1F90      Tunnel  5      123        4567      ',
      '',
    ].join('\n');
    expect(parseProcIpvs(text)).toEqual([
      { protocol: 'udp', address: '198.51.100.53', port: 53, fwmark: 0, scheduler: 'rr', realServers: [{ address: '192.0.2.21', port: 53, forwarding: 'nat', weight: 2, activeConns: 0, inactiveConns: 17 }] },
      { protocol: 'tcp', address: '2001:0db8:0000:0000:0000:0000:0000:0001', port: 443, fwmark: 0, scheduler: 'wlc', realServers: [{ address: '192.0.2.22', port: 8080, forwarding: 'tun', weight: 5, activeConns: 123, inactiveConns: 4567 }] },
    ]);
  });

  it('refuses a line it does not understand rather than guess', () => {
    expect(() => parseProcIpvs('TCP  C6336432:0050 wrr\n  -> C000020B:0050 Teleport 1 0 0\n')).toThrow(/line 2 is not understood/);
    expect(() => parseProcIpvs('  -> C000020B:0050 Route 1 0 0\n')).toThrow(/line 1 is not understood/);
  });
});

describe('ipvsadm rates and addresses', () => {
  it('reads per-service and per-server rates by ipvsadm names', () => {
    const rates = parseRates(fixture('ipvsadm-rate.txt'));
    expect([...rates.services.keys()]).toEqual(['TCP 198.51.100.50:80', 'TCP 198.51.100.51:0', 'TCP 198.51.100.52:80', 'FWM 1']);
    expect(rates.services.get('FWM 1')?.servers.get('192.0.2.12:0')).toEqual({ cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 });
    const busy = parseRates('TCP  198.51.100.50:80  12  340  0  25000  0\n  -> 192.0.2.11:80  3  85  0  6250  0\n');
    expect(busy.services.get('TCP 198.51.100.50:80')?.servers.get('192.0.2.11:80')).toEqual({ cps: 3, inPps: 85, outPps: 0, inBps: 6250, outBps: 0 });
  });

  it('reads each address with its device and label', () => {
    expect(parseAddresses(fixture('ip-addr.txt'))).toEqual([
      { device: 'lo', address: '127.0.0.1', prefix: 8 },
      { device: 'eth0', address: '192.0.2.10', prefix: 24 },
      ...[1, 2, 3, 4].map((n) => ({ device: 'eth0', address: `198.51.100.${49 + n}`, prefix: 32, label: `eth0:${n}` })),
    ]);
    expect(parseAddresses('4: eth1@if12    inet 192.0.2.1/24 brd 192.0.2.255 scope global secondary eth1\\       valid_lft forever')).toEqual([
      { device: 'eth1', address: '192.0.2.1', prefix: 24 },
    ]);
    // A point-to-point address is its local end, a /32 (the length is the peer's); an error line
    // that `2>&1` kept is left out, and the addresses around it are still read.
    expect(parseAddresses('5: tun0    inet 198.18.0.1 peer 198.18.0.2/32 scope global tun0\\       valid_lft forever\nip: something went wrong\n2: eth0    inet 192.0.2.10/24 scope global eth0:7\\ ')).toEqual([
      { device: 'tun0', address: '198.18.0.1', prefix: 32 },
      { device: 'eth0', address: '192.0.2.10', prefix: 24, label: 'eth0:7' },
    ]);
  });
});

describe('director status', () => {
  const read = parseDirectorRead(ok(fixture('proc-net-ip_vs.txt')), ok(fixture('ipvsadm-rate.txt')), ok(fixture('ip-addr.txt')));

  it('matches every declared service and real server with the live table', () => {
    const status = directorStatus(inventory.services, read, hostsByAddress);
    expect(status.table).toBe('ok');
    expect(status.vips.map((vip) => [vip.name, vip.address, vip.held, vip.on])).toEqual([
      ['web', '198.51.100.50', true, 'eth0:1'],
      ['sticky', '198.51.100.51', true, 'eth0:2'],
      ['subnet', '198.51.100.52', true, 'eth0:3'],
      ['marked', '198.51.100.53', true, 'eth0:4'],
    ]);
    expect(status.services.map((service) => [service.key, service.name, service.state, service.servers.map((server) => `${server.host}:${server.state}`)])).toEqual([
      ['TCP 198.51.100.50:80', 'web', 'live', ['rs1:active', 'rs2:active']],
      ['TCP 198.51.100.51:0', 'sticky-all-ports', 'live', ['rs1:active', 'rs2:quiesced']],
      ['TCP 198.51.100.52:80', 'sticky-per-subnet', 'live', ['rs1:active', 'rs2:active']],
      ['FWM 1', 'marked', 'live', ['rs1:active', 'rs2:active']],
    ]);
    const quiesced = status.services[1]?.servers[1];
    expect(quiesced).toMatchObject({ endpoint: '192.0.2.12:0', weight: 0, declaredWeight: 1, why: 'weight 0 live, 1 in the inventory: quiesced by hand or drift' });
    expect(status.services[0]?.servers[1]).toMatchObject({ weight: 3, activeConns: 0, rate: { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 } });
  });

  it('names declared servers and services missing from the table, and live ones nobody declared', () => {
    const table = [
      'TCP  C6336432:0050 wrr ',
      '  -> C000020B:0050      Route   1      2          0         ',
      '  -> C000020D:0050      Route   1      0          0         ',
      'TCP  C6336463:0050 rr ',
      '',
    ].join('\n');
    const status = directorStatus(inventory.services.slice(0, 2), parseDirectorRead(ok(table), { stdout: 'ipvsadm is not installed (package ipvsadm), so no rates', status: 127 }, ok('')), hostsByAddress);
    expect(status.ratesError).toBe('ipvsadm is not installed (package ipvsadm), so no rates');
    expect(status.vips.map((vip) => [vip.address, vip.held])).toEqual([['198.51.100.50', false], ['198.51.100.51', false]]);
    expect(status.services.map((service) => [service.key, service.state, service.servers.map((server) => [server.endpoint, server.host, server.state, server.why])])).toEqual([
      ['TCP 198.51.100.50:80', 'live', [
        ['192.0.2.11:80', 'rs1', 'active', undefined],
        ['192.0.2.12:80', 'rs2', 'absent', 'declared, but not in the live table'],
        ['192.0.2.13:80', undefined, 'undeclared', 'in the live table, not in the inventory'],
      ]],
      ['TCP 198.51.100.51:0', 'absent', [
        ['192.0.2.11:0', 'rs1', 'absent', 'its service is not in the live table'],
        ['192.0.2.12:0', 'rs2', 'absent', 'its service is not in the live table'],
      ]],
      ['TCP 198.51.100.99:80', 'undeclared', []],
    ]);
  });

  it('says why the table could not be read, never showing an empty table as the truth', () => {
    const message = 'no /proc/net/ip_vs and no ipvsadm: install the package ipvsadm and load ip_vs (the director role does both)';
    const status = directorStatus(inventory.services.slice(0, 1), parseDirectorRead({ stdout: `${message}\n`, status: 3 }, { stdout: 'x', status: 127 }, ok('')), hostsByAddress);
    expect([status.table, status.tableError]).toEqual(['unreadable', message]);
    expect(status.services[0]?.servers.map((server) => [server.state, server.why])).toEqual([
      ['absent', 'the live table could not be read'],
      ['absent', 'the live table could not be read'],
    ]);
    expect(parseDirectorRead(undefined, undefined, undefined)).toMatchObject({ table: null, tableError: 'the read script ended early' });
  });
});

describe('the status report', () => {
  const director = directorStatus(inventory.services.slice(0, 2), parseDirectorRead(ok(fixture('proc-net-ip_vs.txt')), ok(fixture('ipvsadm-rate.txt')), ok(fixture('ip-addr.txt'))), hostsByAddress);
  const report: StatusReport = {
    cluster: 'lab-dr',
    at: '2026-11-30T04:04:51.750Z',
    hosts: [
      { host: 'router', address: '203.0.113.1', reachable: false, error: 'router (root@203.0.113.1:22): connect ECONNREFUSED', stats: { connections: 0, channels: 0, execs: 0 } },
      {
        host: 'director',
        address: '192.0.2.10',
        reachable: true,
        drift: { state: 'drift', changes: [{ summary: 'real server 192.0.2.12:0 weight 0 -> 1 in TCP 198.51.100.51:0', task: 'IPVS virtual services', role: 'director' }] },
        director,
        stats: { connections: 1, channels: 1, execs: 1 },
      },
      { host: 'rs1', address: '192.0.2.11', reachable: true, drift: { state: 'in-sync', changes: [] }, stats: { connections: 1, channels: 1, execs: 1 } },
    ],
  };

  it('renders drift, VIPs and a table per service, with why a server is out', () => {
    expect(renderStatus(report)).toBe(
      [
        'lab-dr at 2026-11-30T04:04:51.750Z: 2/3 hosts reached, 1 with drift, 1 real server out of rotation',
        '',
        'router    203.0.113.1  UNREACHABLE: router (root@203.0.113.1:22): connect ECONNREFUSED',
        '',
        'director  192.0.2.10   DRIFT: 1 pending change',
        '  ~ real server 192.0.2.12:0 weight 0 -> 1 in TCP 198.51.100.51:0    [director: IPVS virtual services]',
        '  VIPs: web 198.51.100.50 held on eth0:1, sticky 198.51.100.51 held on eth0:2',
        '  TCP 198.51.100.50:80  web  wrr  dr  0 conn/s, 0 pkt/s in, 0 pkt/s out',
        '    server  endpoint       weight  active  inactive  conn/s  pkt/s in  pkt/s out  state',
        '    rs1     192.0.2.11:80       1       0         0       0         0          0  active',
        '    rs2     192.0.2.12:80       3       0         0       0         0          0  active',
        '  TCP 198.51.100.51:0  sticky-all-ports  rr persistent 300  dr  0 conn/s, 0 pkt/s in, 0 pkt/s out',
        '    server  endpoint      weight  active  inactive  conn/s  pkt/s in  pkt/s out  state',
        '    rs1     192.0.2.11:0       1       0         0       0         0          0  active',
        '    rs2     192.0.2.12:0   0 (1)       0         0       0         0          0  ! quiesced: weight 0 live, 1 in the inventory: quiesced by hand or drift',
        // The report was built with two of the four services declared: the others are strangers.
        '  TCP 198.51.100.52:80  rr persistent mask 255.255.255.0  ? not in the inventory  0 conn/s, 0 pkt/s in, 0 pkt/s out',
        '    server  endpoint       weight  active  inactive  conn/s  pkt/s in  pkt/s out  state',
        '    rs2     192.0.2.12:80       1       0         0       0         0          0  ? undeclared: in the live table, not in the inventory',
        '    rs1     192.0.2.11:80       1       0         0       0         0          0  ? undeclared: in the live table, not in the inventory',
        '  FWM 1  rr persistent  ? not in the inventory  0 conn/s, 0 pkt/s in, 0 pkt/s out',
        '    server  endpoint      weight  active  inactive  conn/s  pkt/s in  pkt/s out  state',
        '    rs2     192.0.2.12:0       1       0         0       0         0          0  ? undeclared: in the live table, not in the inventory',
        '    rs1     192.0.2.11:0       1       0         0       0         0          0  ? undeclared: in the live table, not in the inventory',
        '',
        'rs1       192.0.2.11   in sync',
      ].join('\n'),
    );
  });

  it("shows what a host said with its control characters escaped: a label or an error never reaches the terminal as a command", () => {
    const hostile: StatusReport = {
      at: '2026-11-30T04:04:51.750Z',
      hosts: [
        { host: 'web1', address: '192.0.2.11', reachable: true, drift: { state: 'drift', changes: [{ summary: 'address 198.51.100.50 on eth0 (belongs on lo only): 198.51.100.50/24 label eth0:\u001b[2J -> (absent)', task: 'VIP', role: 'realserver-dr' }] }, stats: { connections: 1, channels: 1, execs: 1 } },
        { host: 'web2', address: '192.0.2.12', reachable: true, drift: { state: 'unknown', changes: [], error: 'unexpected address line: \u001b]0;pwned\u0007' }, stats: { connections: 1, channels: 1, execs: 1 } },
      ],
    };
    const text = renderStatus(hostile);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(text).toContain('label eth0:\\e[2J -> (absent)');
    expect(text).toContain('drift unknown: unexpected address line: \\e]0;pwned\\x07');
  });

  it('lists hosts of one line each one under the other, lined up; a host with details stands apart', () => {
    const inSync = (host: string, address: string): StatusReport['hosts'][number] => ({ host, address, reachable: true, drift: { state: 'in-sync', changes: [] }, stats: { connections: 1, channels: 1, execs: 1 } });
    const drifted: StatusReport['hosts'][number] = {
      host: 'web3',
      address: '192.0.2.13',
      reachable: true,
      drift: { state: 'drift', changes: [{ summary: 'sysctl net.ipv4.conf.all.arp_ignore 0 -> 1', task: 'ARP', role: 'realserver-dr' }] },
      stats: { connections: 1, channels: 1, execs: 1 },
    };
    const lined: StatusReport = {
      at: '2026-11-30T04:04:51.750Z',
      hosts: [inSync('web1', '192.0.2.11'), inSync('web22', '192.0.2.122'), drifted, { ...inSync('web4', '192.0.2.14'), reachable: false, error: 'connect ETIMEDOUT' }, inSync('web5', '192.0.2.15')],
    };
    expect(renderStatus(lined).split('\n').slice(1)).toEqual([
      '',
      'web1   192.0.2.11   in sync',
      'web22  192.0.2.122  in sync',
      '',
      'web3   192.0.2.13   DRIFT: 1 pending change',
      '  ~ sysctl net.ipv4.conf.all.arp_ignore 0 -> 1    [realserver-dr: ARP]',
      '',
      'web4   192.0.2.14   UNREACHABLE: connect ETIMEDOUT',
      'web5   192.0.2.15   in sync',
    ]);
  });

  it('exits 3 for an unreachable host, 2 when a table could not be read, else 0', () => {
    expect(exitCodeForStatus(report)).toBe(3);
    expect(exitCodeForStatus({ ...report, hosts: report.hosts.slice(1) })).toBe(0);
    const unreadable = { ...report.hosts[1], director: { ...director, table: 'unreadable' as const } } as StatusReport['hosts'][number];
    expect(exitCodeForStatus({ ...report, hosts: [...report.hosts, unreadable] })).toBe(2);
  });
});
