import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/config/inventory.js';
import { renderDirector, statusSummary } from '../../src/report/status-text.js';
import { parseAddresses } from '../../src/status/director-read.js';
import { describeVrrp, vrrpInstances, vrrpStatus } from '../../src/status/vrrp.js';

// status's VRRP line for a director pair (inventories/lab-ha.yaml): what it names from whether
// keepalived runs and which of the instance's VIPs the director holds (`ip -o -4 addr show`).

const inventory = loadInventory(join(import.meta.dirname, '../../inventories/lab-ha.yaml'));
const running = { stdout: 'running\n', status: 0 };
const stopped = { stdout: 'stopped\n', status: 0 };
const withVip = parseAddresses('1: lo    inet 127.0.0.1/8 scope host lo\\ \n2: eth0    inet 192.0.2.10/24 brd 192.0.2.255 scope global eth0\\ \n2: eth0    inet 198.51.100.50/32 scope global eth0:1\\ \n');
const withoutVip = parseAddresses('2: eth0    inet 192.0.2.20/24 brd 192.0.2.255 scope global eth0\\ \n');

describe('VRRP in status', () => {
  it('knows each director\'s instance and priority from lvs.ha, and nothing for a host that directs nothing', () => {
    expect(vrrpInstances(inventory, 'dir1')).toEqual([{ virtualRouterId: 51, priority: 254, vips: ['198.51.100.50'] }]);
    expect(vrrpInstances(inventory, 'dir2')).toEqual([{ virtualRouterId: 51, priority: 253, vips: ['198.51.100.50'] }]);
    expect(vrrpInstances(inventory, 'rs1')).toEqual([]);
  });

  it('names MASTER and BACKUP by the VIPs held while keepalived runs', () => {
    const [master] = vrrpStatus(vrrpInstances(inventory, 'dir1'), running, withVip);
    const [backup] = vrrpStatus(vrrpInstances(inventory, 'dir2'), running, withoutVip);
    expect(master?.state).toBe('master');
    expect(describeVrrp(master as NonNullable<typeof master>)).toBe('VRRP VI_51 (id 51, priority 254): MASTER (keepalived runs, holds 198.51.100.50)');
    expect(describeVrrp(backup as NonNullable<typeof backup>)).toBe('VRRP VI_51 (id 51, priority 253): BACKUP (keepalived runs, holds none of its VIPs)');
  });

  it('a stopped keepalived, and one killed that left its VIP behind, are told apart; an unreadable check is unknown', () => {
    expect(vrrpStatus(vrrpInstances(inventory, 'dir2'), stopped, withoutVip)[0]?.state).toBe('stopped');
    const [leftover] = vrrpStatus(vrrpInstances(inventory, 'dir1'), stopped, withVip);
    expect(describeVrrp(leftover as NonNullable<typeof leftover>)).toMatch(/not running, yet 198\.51\.100\.50 still on its interfaces .* may answer ARP/);
    expect(vrrpStatus(vrrpInstances(inventory, 'dir1'), undefined, withVip)[0]).toMatchObject({ state: 'unknown', error: 'the read script ended early' });
  });

  it('is one line under the director\'s VIPs', () => {
    const vrrp = vrrpStatus(vrrpInstances(inventory, 'dir2'), running, withoutVip);
    const lines = renderDirector({ table: 'ok', vips: [{ name: 'web', address: '198.51.100.50', held: false }], vrrp, services: [] });
    expect(lines).toEqual(['  VIPs: web 198.51.100.50 not held (VRRP backup)', '  VRRP VI_51 (id 51, priority 253): BACKUP (keepalived runs, holds none of its VIPs)']);
  });

  it('a VIP a running backup does not hold is no alarm; one a stopped keepalived does not hold is', () => {
    const vips = [{ name: 'web', address: '198.51.100.50', held: false }];
    const backup = renderDirector({ table: 'ok', vips, vrrp: vrrpStatus(vrrpInstances(inventory, 'dir2'), running, withoutVip), services: [] });
    const stoppedHere = renderDirector({ table: 'ok', vips, vrrp: vrrpStatus(vrrpInstances(inventory, 'dir2'), stopped, withoutVip), services: [] });
    expect(backup[0]).toBe('  VIPs: web 198.51.100.50 not held (VRRP backup)');
    expect(stoppedHere[0]).toBe('  VIPs: web 198.51.100.50 NOT HELD');
  });
});

describe('the summary line of a pair', () => {
  // Both directors list the real server that is down, in both services: one server is out.
  const absent = (endpoint: string) => ({ endpoint, host: 'app3', state: 'absent' as const, why: 'declared, but not in the live table', declaredWeight: 1 });
  const director = (host: string) => ({
    host,
    address: host === 'dir1' ? '192.0.2.10' : '192.0.2.20',
    reachable: true,
    stats: { connections: 1, channels: 1, execs: 1 },
    drift: { state: 'in-sync' as const, changes: [] },
    director: {
      table: 'ok' as const,
      vips: [],
      services: ['TCP 198.51.100.77:8080', 'TCP 198.51.100.78:8080'].map((key) => ({ key, name: key, state: 'live' as const, servers: [absent('198.18.40.23:8080')] })),
    },
  });
  it('counts a real server once, however many directors and services list it out', () => {
    expect(statusSummary({ cluster: 'acc', at: 'now', hosts: [director('dir1'), director('dir2')] })).toBe('acc at now: 2/2 hosts reached, 0 with drift, 1 real server out of rotation');
  });
});
