import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { healthCheckSchema } from '../../src/config/ha-schema.js';
import { loadInventory } from '../../src/config/inventory.js';
import { directorKeepalived } from '../../src/config/keepalived-vars.js';
import { configShape, keepalivedConfig } from '../../src/resources/keepalived/config-text.js';
import { configWeights, weightKey } from '../../src/resources/keepalived/config-weights.js';
import { tracking } from '../../src/resources/keepalived/fault-flag.js';
import { liveInstances, outOfSyncGroups, withoutInstances } from '../../src/resources/keepalived/live-instances.js';
import { keepalivedSchema, type KeepalivedSpec } from '../../src/resources/keepalived/schema.js';
import { resourceTypes } from '../../src/resources/registry.js';
import type { AnyResourceType } from '../../src/resources/types.js';

// keepalived.conf from the LVS model, table-driven: each folder of test/fixtures/keepalived holds an
// inventory and the config each of its keepalived directors gets (<host>.conf). Every generated
// config is also tested by keepalived itself (`keepalived -t -f`, Debian's 2.2.7, installed by
// scripts/setup.sh) in a private network namespace whose eth0-eth2 exist, since keepalived refuses
// a config that names interfaces the host does not have.

const root = join(import.meta.dirname, '../fixtures/keepalived');
const work = mkdtempSync(join(tmpdir(), 'lvsprov-keepalived-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The keepalived spec of each host of the folder's inventory that has one. */
function specsOf(folder: string): Map<string, KeepalivedSpec> {
  const inventory = loadInventory(join(root, folder, 'inventory.yaml'));
  const specs = new Map<string, KeepalivedSpec>();
  for (const host of Object.keys(inventory.data.hosts)) {
    const spec = directorKeepalived(inventory, host, 'eth0');
    if (spec) specs.set(host, keepalivedSchema.parse(spec));
  }
  return specs;
}

function configsOf(folder: string): Map<string, string> {
  return new Map([...specsOf(folder)].map(([host, spec]) => [host, keepalivedConfig(spec)]));
}

/** keepalived's verdict on a config: its exit status and what it printed. */
function keepalivedTest(text: string): { status: number | null; output: string } {
  const file = join(work, `test-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(file, text);
  const script = 'for i in 0 1 2; do ip link add eth$i type veth peer name peer$i; done; exec keepalived -t -f "$1"';
  const result = spawnSync('unshare', ['-n', 'sh', '-c', script, 'sh', file], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const folders = readdirSync(root).sort();

describe.each(folders)('%s', (folder) => {
  const configs = configsOf(folder);
  const expected = readdirSync(join(root, folder)).filter((name) => name.endsWith('.conf'));

  it('gives every keepalived director the config its fixture holds, and no other host one', () => {
    expect([...configs.keys()].map((host) => `${host}.conf`).sort()).toEqual(expected.sort());
    for (const [host, text] of configs) expect(text, host).toBe(readFileSync(join(root, folder, `${host}.conf`), 'utf8'));
  });

  it.each([...configs.keys()])('keepalived -t accepts the config of %s', (host) => {
    const verdict = keepalivedTest(configs.get(host) ?? '');
    expect(verdict.output).not.toMatch(/WARNING|Unknown keyword|error/i);
    expect(verdict.status, verdict.output).toBe(0);
  });
});

// A whole leaving service is quiesced at the weights the running config gives (plan.ts, fromLive):
// the reader must find every real server's weight in every config lvsprov writes, fwmark, UDP and
// catch-all services included.
describe('the weights of a written config read back', () => {
  it.each(folders)('%s: every real server of every virtual server, and nothing else', (folder) => {
    for (const [host, spec] of specsOf(folder)) {
      const expected = spec.virtual_servers.flatMap((server) => server.real_servers.map((real) => [weightKey(server, real), real.weight] as const));
      expect(expected.length, host).toBeGreaterThan(0);
      expect([...configWeights(keepalivedConfig(spec))].sort(), host).toEqual(expected.sort());
    }
  });
});

// Whether a config with leaving servers kept needs writing before the drain (plan.ts) compares
// shapes: the same servers, weights and VIPs in another order say the same to keepalived.
describe('the shape of a written config', () => {
  it.each(folders)('%s: blocks and lines in another order have the same shape; a weight, a server or a VIP more does not', (folder) => {
    for (const [host, spec] of specsOf(folder)) {
      const text = keepalivedConfig(spec);
      const reordered = keepalivedConfig({ ...spec, instances: [...spec.instances].reverse().map((instance) => ({ ...instance, vips: [...instance.vips].reverse() })), virtual_servers: [...spec.virtual_servers].reverse().map((server) => ({ ...server, real_servers: [...server.real_servers].reverse() })) });
      expect(configShape(reordered), host).toBe(configShape(text));
      const [first, ...rest] = spec.virtual_servers;
      if (first === undefined) continue;
      const [real] = first.real_servers;
      if (real === undefined) continue;
      const reweighted = { ...first, real_servers: first.real_servers.map((entry, index) => (index === 0 ? { ...entry, weight: entry.weight + 1 } : entry)) };
      expect(configShape(keepalivedConfig({ ...spec, virtual_servers: [reweighted, ...rest] })), host).not.toBe(configShape(text));
      const added = { ...first, real_servers: [...first.real_servers, { ...real, address: '192.0.2.250' }] };
      expect(configShape(keepalivedConfig({ ...spec, virtual_servers: [added, ...rest] })), host).not.toBe(configShape(text));
      const [instance, ...others] = spec.instances;
      const [vip] = instance?.vips ?? [];
      if (instance === undefined || vip === undefined) continue;
      expect(configShape(keepalivedConfig({ ...spec, instances: [{ ...instance, vips: [...instance.vips, { ...vip, address: '198.51.100.250' }] }, ...others] })), host).not.toBe(configShape(text));
    }
  });
});

describe('keepalived -t is a real judge here', () => {
  it('refuses a config with an unknown keyword and an out-of-range VRRP id', () => {
    const verdict = keepalivedTest('vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n    priority 100\n}\nvirtual_servr 192.0.2.1 80 {\n}\n');
    expect(verdict.status).not.toBe(0);
    expect(verdict.output).toMatch(/Unknown keyword 'virtual_servr'/);
  });

  it('keepalived is the Debian 2.2 series the grammar was written for', () => {
    const version = spawnSync('keepalived', ['--version'], { encoding: 'utf8' });
    expect(`${version.stdout}${version.stderr}`).toMatch(/Keepalived v2\.2\./);
  });
});

// Without a router_id keepalived names itself by looking its host name up (getaddrinfo), in every
// process: `keepalived -t` before each config write and every start. A director whose name no
// resolver answers (the lab's hosts, many a production one) waited out a DNS timeout, 5 s here, each
// time; a scheduler swap's hold was held that long. Every config names the director instead.
describe('keepalived -t of a written config looks no host name up', () => {
  /** The files keepalived -t opens and the sockets it connects, in a namespace with a host name no resolver knows. */
  function lookups(text: string): string[] {
    const file = join(work, `lookup-${Math.random().toString(36).slice(2)}.conf`);
    const trace = `${file}.trace`;
    writeFileSync(file, text);
    const script = 'hostname no-such-host.invalid; for i in 0 1 2; do ip link add eth$i type veth peer name peer$i; done; exec strace -f -e trace=openat,connect -o "$2" keepalived -t -f "$1"';
    const result = spawnSync('unshare', ['-n', '-u', 'sh', '-c', script, 'sh', file, trace], { encoding: 'utf8' });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    return readFileSync(trace, 'utf8').split('\n').filter((line) => /"\/etc\/(hosts|resolv\.conf|nsswitch\.conf)"|connect\(/.test(line));
  }

  it.each(folders)('%s: each director is named by its inventory name, and keepalived -t reads no resolver file', (folder) => {
    for (const [host, text] of configsOf(folder)) {
      expect(text).toContain(`\nglobal_defs {\n    router_id ${host}\n}\n`);
      expect(lookups(text), host).toEqual([]);
    }
  });

  it('the same config without a router_id looks the host name up (the trace sees a lookup)', () => {
    const text = configsOf('dr-pair').get('dir1') ?? '';
    expect(lookups(text.replace(/\nglobal_defs \{\n {4}router_id dir1\n\}\n/, ''))).toContainEqual(expect.stringContaining('/etc/nsswitch.conf'));
  });
});

// A director leaving a VRRP group first reloads with that instance tracking a file (leave.ts): the
// config keepalived then runs must be one it accepts, read back as the same instances, and the
// leaving instance must be out of every sync group it shared with instances that stay.
describe('the config a director leaving a VRRP group reloads first', () => {
  const flag = join(work, 'keepalived.conf.lvsprov-leave');
  const threeDirectors = configsOf('three-directors-every-kind').get('dir2') ?? '';
  const nat = configsOf('nat-pair').get('dir1') ?? '';

  it('keepalived -t accepts the instance tracking the flag, and the rest reads back unchanged', () => {
    writeFileSync(flag, '0\n');
    const text = tracking(threeDirectors, new Set(['VI_52']), flag);
    const verdict = keepalivedTest(text);
    expect(verdict.output).not.toMatch(/WARNING|Unknown keyword|error/i);
    expect(verdict.status, verdict.output).toBe(0);
    expect(liveInstances(text)).toEqual(liveInstances(threeDirectors));
    expect(text.match(/lvsprov_leave weight 0/g)).toHaveLength(1);
    expect(tracking(text, new Set(['VI_52']), flag)).toBe(text);
  });

  it('a leaving member of a sync group leaves the group first (its FAULT would take the group with it); a group left with one member goes', () => {
    const tracked = tracking(outOfSyncGroups(nat, new Set(['VI_61'])), new Set(['VI_61']), flag);
    expect(tracked).not.toContain('vrrp_sync_group');
    expect(liveInstances(tracked).map((instance) => instance.name)).toEqual(['VI_61', 'VI_62']);
    const verdict = keepalivedTest(tracked);
    expect(verdict.status, verdict.output).toBe(0);
    expect(withoutInstances(nat, new Set(['VI_61']))).toBe(withoutInstances(outOfSyncGroups(nat, new Set(['VI_61'])), new Set(['VI_61'])));
  });
});

describe('no inventory string can reach keepalived.conf as more than one word', () => {
  const hostile = ['/a b', '/}', '/{', '/x\n}', '/#x', '/!x', '/"x', "/'x", '/\\x', '/$X', '/${X}', '/@x', '/x;y', '/x\ty'];

  it.each(hostile)('the health check path %j is refused by the inventory schema', (path) => {
    expect(healthCheckSchema.safeParse({ type: 'http', path }).success).toBe(false);
  });

  it('the task schema refuses an interface keepalived would read as two words', () => {
    const spec = { instances: [{ name: 'VI_1', virtual_router_id: 1, interface: 'eth0@x', state: 'MASTER', priority: 100, unicast_src_ip: '192.0.2.10', unicast_peers: ['192.0.2.20'], vips: [{ address: '198.51.100.50', device: 'eth0' }] }] };
    expect(keepalivedSchema.safeParse(spec).success).toBe(false);
  });

  // The config's own path is written into it too, as the file a leaving director's track_file
  // watches: `/etc/keepalived/k}.conf` closed that block early, `/etc/keepalived/key conf.conf`
  // made keepalived watch /etc/keepalived/key, so the leave never came.
  it.each(hostile)('the task schema refuses the config path %j, and the leave flag refuses it too', (hostilePath) => {
    const path = `/etc/keepalived${hostilePath}.conf`;
    expect(keepalivedSchema.safeParse({ path }).success).toBe(false);
    expect(() => tracking('vrrp_instance VI_1 {\n}\n', new Set(['VI_1']), `${path}.lvsprov-leave`)).toThrow(/not a plain word/);
  });

  it.each(hostile)('the writer itself refuses %j even when a caller skipped the schema', (path) => {
    const spec = keepalivedSchema.parse({
      virtual_servers: [{ protocol: 'tcp', address: '198.51.100.50', port: 80, scheduler: 'rr', forwarding: 'dr', real_servers: [{ address: '192.0.2.11', port: 80, weight: 1 }], health_check: { type: 'http' } }],
    });
    const tampered = { ...spec, virtual_servers: spec.virtual_servers.map((server) => ({ ...server, health_check: { ...server.health_check!, path } })) };
    expect(() => keepalivedConfig(tampered)).toThrow(/not a plain word/);
  });
});

// Every config the keepalived task writes on the way, the quiesce config of a leaving real server
// or service included, goes through `keepalived -t` on the host: one it refuses fails the apply.
// Planned from each resource fixture (test/fixtures/resources/keepalived), and from a director
// whose live table holds a service the spec drops (keepalived -t refuses a virtual server whose
// weights sum to 0: its quorum is at least 1).
describe('every config the keepalived planner writes on the way passes keepalived -t', () => {
  const fixtures = join(import.meta.dirname, '../fixtures/resources/keepalived');
  const keepalived = resourceTypes.keepalived as AnyResourceType;
  const written = (spec: unknown, output: { stdout: string; status: number }): string[] => {
    const parsed = keepalived.schema.parse(spec);
    return keepalived
      .plan(parsed, keepalived.parse(output, parsed), { host: 'test' })
      .flatMap((change) => (change.diff?.kind === 'file' && typeof change.diff.after === 'string' ? [change.diff.after] : []));
  };
  const cases = readdirSync(fixtures)
    .filter((name) => name.endsWith('.json'))
    .map((name) => [name, JSON.parse(readFileSync(join(fixtures, name), 'utf8')) as { spec: unknown; output: { stdout: string; status: number }; error?: string }] as const)
    .filter(([, fixture]) => fixture.error === undefined);
  const leaving = cases.find(([name]) => name === 'leaving-real-server-goes-to-weight-0-first.json')?.[1];

  it.each(cases.map(([name, fixture]) => [name, fixture] as const))('%s', (_name, fixture) => {
    for (const text of written(fixture.spec, fixture.output)) {
      const verdict = keepalivedTest(text);
      expect(verdict.status, `${verdict.output}\n${text}`).toBe(0);
    }
  });

  it('a whole service leaving (dropped from the spec) is quiesced in a config keepalived accepts', () => {
    const base = leaving?.spec as { virtual_servers: Array<Record<string, unknown>> };
    const spec = { ...base, virtual_servers: base.virtual_servers.map((server) => ({ ...server, port: 81, real_servers: [{ address: '192.0.2.11', port: 81, weight: 1 }] })) };
    const texts = written(spec, leaving?.output ?? { stdout: '', status: 0 });
    expect(texts.length).toBeGreaterThan(1);
    expect(texts[0]).toMatch(/virtual_server 198\.51\.100\.50 80 /);
    for (const text of texts) {
      const verdict = keepalivedTest(text);
      expect(verdict.status, `${verdict.output}\n${text}`).toBe(0);
    }
  });
});
