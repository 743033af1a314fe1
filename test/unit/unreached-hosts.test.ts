import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/config/compile.js';
import { loadInventory } from '../../src/config/inventory.js';
import { unreachedListedPerCause } from '../../src/config/unreached-hosts.js';

// Hosts no play reaches are told one by one while they are few, and folded into one warning per
// cause (the same misspelt group, the same groups, no group) when they are many.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-unreached-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const site = join(import.meta.dirname, '../../playbooks/site.yaml');

function hostLines(prefix: string, count: number, firstOctet: number, groups: string): string {
  return Array.from({ length: count }, (_, index) => `  ${prefix}${index + 1}: { address: 192.0.2.${firstOctet + index}${groups} }\n`).join('');
}

describe('unreached-host warnings fold beyond a few hosts per cause', () => {
  const file = join(dir, 'inventory.yaml');
  writeFileSync(
    file,
    'hosts:\n' +
      '  director: { address: 192.0.2.1, groups: [directors] }\n' +
      hostLines('spare', 5, 10, '') +
      hostLines('rs', 4, 20, ', groups: [web, realserver]') +
      hostLines('cache', 2, 30, ', groups: [cache]') +
      hostLines('db', 3, 40, ', groups: [db]') +
      '  rs9: { address: 192.0.2.50, groups: [realserver] }\n',
  );
  const warnings = compile(loadInventory(file), site).warnings.filter((warning) => warning.includes('no play reaches'));

  it('lists the first hosts of a cause and counts the rest, at the first host', () => {
    expect(unreachedListedPerCause).toBe(3);
    expect(warnings).toContain(`${file}:3:3: hosts.spare1: no play reaches 5 hosts in no group (spare1, spare2, spare3 and 2 more), so they get no role`);
  });

  it('groups hosts by the misspelt group, whatever their other groups, and keeps the suggestion', () => {
    expect(warnings).toContain(
      `${file}:8:45: hosts.rs1.groups.1: no play reaches 5 hosts in group realserver (rs1, rs2, rs3 and 2 more), so they get no role; did you mean realservers?`,
    );
  });

  it('still tells a few hosts of one cause one by one, each at its own line', () => {
    expect(warnings).toContain(`${file}:12:3: hosts.cache1: no play reaches host cache1 (its groups: cache), so it gets no role`);
    expect(warnings).toContain(`${file}:13:3: hosts.cache2: no play reaches host cache2 (its groups: cache), so it gets no role`);
    expect(warnings.filter((warning) => warning.includes('hosts.db'))).toHaveLength(3);
  });

  it('says each cause once: nothing else is warned', () => {
    expect(warnings).toHaveLength(1 + 1 + 2 + 3);
  });
});

describe('hosts of group clients', () => {
  const file = join(dir, 'clients.yaml');
  writeFileSync(
    file,
    [
      'hosts:',
      '  director: { address: 192.0.2.1, groups: [directors] }',
      '  rs1: { address: 192.0.2.11, groups: [realservers] }',
      '  client: { address: 192.0.2.100, groups: [clients] }',
      '  rs2: { address: 192.0.2.12, groups: [clients] }',
      'lvs:',
      '  vips: { web: { address: 198.51.100.50 } }',
      '  services: [{ vip: web, port: 80, real_servers: [{ host: rs1 }, { host: rs2 }] }]',
      '',
    ].join('\n'),
  );
  const warnings = compile(loadInventory(file), site).warnings.filter((warning) => warning.includes('no play reaches'));

  it('are not warned about, where verify sends requests from', () => {
    expect(warnings.filter((warning) => warning.includes('hosts.client:'))).toEqual([]);
  });

  it('are warned about when a service names one as a real server: it would get no real-server setup', () => {
    expect(warnings).toEqual([`${file}:5:3: hosts.rs2: no play reaches host rs2 (its groups: clients), so it gets no role`]);
  });
});
