import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile, type CompiledTask } from '../../src/config/compile.js';
import { hostVars } from '../../src/config/host-vars.js';
import { loadInventory } from '../../src/config/inventory.js';
import { renderString } from '../../src/config/render.js';
import { ConfigError } from '../../src/errors.js';

// Names every JavaScript object inherits are ordinary names in an inventory: a host, group, VIP or
// variable called `constructor` is itself, and an unset one is unknown, never Object.prototype's.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-names-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const site = join(import.meta.dirname, '../../playbooks/site.yaml');

function inventoryFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function problemsOf(file: string): string[] {
  try {
    compile(loadInventory(file), site);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.line}:${p.col}: ${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

const byType = (tasks: readonly CompiledTask[] | undefined, type: string) => (tasks ?? []).filter((task) => task.type === type).map((task) => task.spec);

describe('prototype names as hosts, groups, VIPs and variables', () => {
  const file = inventoryFile(
    'named.yaml',
    `vars: { constructor: cluster-wide }
hosts:
  router: { address: 192.0.2.1, groups: [routers], vars: { lan_interface: eth1 } }
  constructor: { address: 192.0.2.10, groups: [directors] }
  toString: { address: 192.0.2.11, groups: [realservers] }
  valueOf: { address: 192.0.2.12, groups: [realservers] }
groups:
  hasOwnProperty: { hosts: [valueOf], vars: { toString: from-group } }
lvs:
  vips:
    constructor: { address: 198.51.100.50 }
  services:
    - { vip: constructor, port: 80, scheduler: wrr, real_servers: [{ host: toString, weight: 2 }, { host: valueOf }] }
`,
  );

  it('compile to the cluster they describe', () => {
    const inventory = loadInventory(file);
    const run = compile(inventory, site);
    const [ipvs] = byType(run.hosts.get('constructor'), 'ipvs') as Array<{ services: Array<{ address: string; real_servers: Array<{ address: string; weight: number }> }> }>;
    expect(ipvs?.services.map((service) => [service.address, service.real_servers.map((server) => `${server.address}/${server.weight}`)])).toEqual([
      ['198.51.100.50', ['192.0.2.11/2', '192.0.2.12/1']],
    ]);
    expect(byType(run.hosts.get('toString'), 'address')).toContainEqual(expect.objectContaining({ address: '198.51.100.50', device: 'lo' }));
    expect(hostVars(inventory, 'valueOf')).toMatchObject({ constructor: 'cluster-wide', toString: 'from-group', group_names: ['hasOwnProperty', 'realservers'] });
    expect(hostVars(inventory, 'toString').toString).toBeTypeOf('function');
  });

  it('an unset one is unknown, with the names that exist', () => {
    const broken = inventoryFile(
      'unknown.yaml',
      `hosts:
  d: { address: 192.0.2.10, groups: [directors] }
  rs: { address: 192.0.2.11 }
groups:
  valueOf: { hosts: [toString] }
lvs:
  services:
    - { vip: hasOwnProperty, port: 80, directors: [constructor], real_servers: [{ host: toString }, { host: rs }] }
`,
    );
    expect(problemsOf(broken)).toEqual([
      '5:22: groups.valueOf.hosts.0: unknown host toString (known: d, rs)',
      '8:14: lvs.services.0.vip: unknown VIP hasOwnProperty: not a name in lvs.vips and not an IPv4 address (known: none)',
      '8:52: lvs.services.0.directors.0: unknown host constructor (known: d, rs)',
      '8:89: lvs.services.0.real_servers.0.host: unknown host toString (known: d, rs)',
    ]);
  });

  it('__proto__ is refused wherever it stands, at its key', () => {
    const broken = inventoryFile('proto.yaml', 'hosts:\n  rs1: { address: 192.0.2.11, vars: { __proto__: { x: 1 } } }\n  __proto__: { address: 192.0.2.12 }\n');
    expect(problemsOf(broken)).toEqual([
      '2:39: hosts.rs1.vars.__proto__: __proto__ cannot be a name (JavaScript reserves it); choose another',
      '3:3: hosts.__proto__: __proto__ cannot be a name (JavaScript reserves it); choose another',
    ]);
  });

  it('a template reading an unset inherited name is missing a variable, not an empty string', () => {
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      expect(() => renderString(`x {{${name}}}`, {}), name).toThrow(`variable ${name} is not set`);
      expect(renderString(`x {{${name}}}`, { [name]: 'set' })).toBe('x set');
    }
    expect(() => renderString('{{#each list}}{{constructor}}{{/each}}', { list: [{}] })).toThrow('variable constructor is not set');
  });
});
