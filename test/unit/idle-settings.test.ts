import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { idleSettingWarnings } from '../../src/config/idle-settings.js';
import { loadInventory } from '../../src/config/inventory.js';

const work = mkdtempSync(join(tmpdir(), 'lvsprov-idle-settings-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const hosts = `hosts:
  dir1: { address: 192.0.2.10, groups: [directors], vars: { dip: 198.18.10.2 } }
  dir2: { address: 192.0.2.20, groups: [directors], vars: { dip: 198.18.10.3 } }
  rs1: { address: 198.18.10.11, groups: [realservers] }
`;

function warningsOf(lvs: string): string[] {
  const file = join(work, `inventory-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `${hosts}lvs:\n${lvs}`);
  return idleSettingWarnings(loadInventory(file)).map((warning) => warning.replace(`${file}:`, ''));
}

describe('settings nothing reads are warned about, at their key', () => {
  it.each([
    {
      why: "a VIP's virtual_router_id without lvs.ha",
      lvs: '  vips:\n    web: { address: 198.51.100.60, virtual_router_id: 7 }\n  services:\n    - { name: web, vip: web, port: 80, directors: [dir1], real_servers: [{ host: rs1 }] }\n',
      warnings: [/^7:36: lvs\.vips\.web\.virtual_router_id: VIP web's virtual_router_id is used only under lvs\.ha/],
    },
    {
      why: 'lvs.ha.gateway and no NAT service',
      lvs: '  ha:\n    virtual_router_id: 61\n    gateway: { address: 198.18.10.1, interface: eth1, virtual_router_id: 62 }\n  vips:\n    web: { address: 198.51.100.60 }\n  services:\n    - { name: web, vip: web, port: 80, real_servers: [{ host: rs1 }] }\n',
      warnings: [/^8:5: lvs\.ha\.gateway: lvs\.ha\.gateway is the NAT real servers' floating gateway, and no service forwards by NAT/],
    },
    {
      why: 'both in use: none',
      lvs: '  ha:\n    virtual_router_id: 61\n    gateway: { address: 198.18.10.1, interface: eth1, virtual_router_id: 62 }\n  vips:\n    web: { address: 198.51.100.60, virtual_router_id: 63 }\n  services:\n    - { name: web, vip: web, port: 80, forwarding: nat, real_servers: [{ host: rs1 }] }\n',
      warnings: [],
    },
  ])('$why', ({ lvs, warnings }) => {
    const said = warningsOf(lvs);
    expect(said).toHaveLength(warnings.length);
    said.forEach((warning, index) => expect(warning).toMatch(warnings[index]!));
  });
});
