import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labAvailability, skipLabSuite, type Lab } from '../../src/lab/netns/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { drLabSpec, writeInventory } from '../support/dr-lab.js';
import { labSh } from '../support/lab-sh.js';

// A cluster that keeps changing, on real hosts: a seeded walk through random inventories (VIPs,
// services by DR or NAT, schedulers, weights, persistence, sorry servers, session stores, which
// real servers are in the play), each applied to the router and real servers of a netns lab. After
// every step a second apply and a --check change nothing, and each real server's lo holds exactly
// the DR VIPs the inventory gives it (read through nsenter, not lvsprov); at the end a reset, and
// a second reset that changes nothing. The directors need IPVS, which this kernel lacks: they stay
// out of the play, as in the bench.

const availability = labAvailability();
const SEED = 20261207;
const STEPS = 12;
const REAL_SERVERS = ['rs1', 'rs2', 'rs3', 'rs4'] as const;
const ADDRESS: Record<string, string> = { rs1: '192.0.2.11', rs2: '192.0.2.12', rs3: '192.0.2.13', rs4: '192.0.2.14' };
const VIP_POOL = ['198.51.100.50', '198.51.100.51', '198.51.100.52'];
const LIMIT = ['--limit', 'routers,realservers,sessionstores'];

/** A small linear congruential generator: the same walk on every run, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

interface Service {
  name: string;
  vip: string;
  port: number;
  scheduler: string;
  forwarding: 'dr' | 'nat';
  persistence?: number;
  sorry_server?: { address: string; port: number };
  real_servers: Array<{ host: string; weight?: number }>;
}

function randomCluster(random: () => number): { vips: Record<string, { address: string }>; services: Service[]; play: string[]; stores?: string[] } {
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const some = <T,>(items: readonly T[]): T[] => {
    for (;;) {
      const chosen = items.filter(() => random() < 0.6);
      if (chosen.length > 0) return chosen;
    }
  };
  const vips = Object.fromEntries(some(VIP_POOL).map((address) => [`v${address.split('.')[3]}`, { address }]));
  const services: Service[] = [];
  const taken = new Set<string>();
  const count = 1 + Math.floor(random() * 3);
  for (let index = 0; index < count; index++) {
    const vip = pick(Object.keys(vips));
    const port = pick([80, 8080]);
    if (taken.has(`${vip}:${port}`)) continue;
    taken.add(`${vip}:${port}`);
    const servers = some(REAL_SERVERS);
    const service: Service = {
      name: `s${index}`,
      vip,
      port,
      scheduler: pick(['rr', 'wrr', 'lc', 'wlc', 'sh']),
      forwarding: pick(['dr', 'dr', 'nat'] as const),
      real_servers: servers.map((host) => ({ host, ...(random() < 0.5 ? { weight: Math.floor(random() * 4) } : {}) })),
    };
    if (random() < 0.3) service.persistence = pick([60, 300]);
    // A sorry server at a real server of another service is set up as this one's at weight 0.
    const spare = REAL_SERVERS.filter((host) => !servers.includes(host));
    if (random() < 0.3 && spare.length > 0) service.sorry_server = { address: ADDRESS[pick(spare)] as string, port };
    services.push(service);
  }
  const cluster = { vips, services, play: some(REAL_SERVERS) };
  return random() < 0.4 ? { ...cluster, stores: some(REAL_SERVERS).slice(0, 2) } : cluster;
}

describe.skipIf(skipLabSuite(availability))(`a seeded walk through random clusters on real hosts (${availability.reason})`, () => {
  let lab: Lab;
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lvsprov-random-transitions-'));
    // The DR lab's router and rs1, rs2, with rs3 and rs4 beside them on its LAN.
    const spec = drLabSpec('itwalk');
    const more = REAL_SERVERS.filter((name) => !spec.hosts.some((host) => host.name === name)).map((name) => ({ name, interfaces: [{ subnet: 'lan', address: ADDRESS[name] as string }] }));
    lab = await createLab({ ...spec, hosts: [...spec.hosts, ...more] }, join(dir, 'lab'));
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const inventoryOf = (cluster: ReturnType<typeof randomCluster>, step: number): string =>
    writeInventory(dir, `step-${step}.yaml`, {
      name: 'it-walk',
      ssh: { user: 'root', private_key: lab.clientKeyPath, known_hosts: lab.knownHostsPath, agent: false, connect_timeout: 10 },
      groups: { routers: { hosts: ['router'], vars: { lan_interface: 'eth1' } }, directors: { hosts: ['director'] }, realservers: { hosts: cluster.play } },
      networks: ['192.0.2.0/24'],
      hosts: { router: { address: '203.0.113.1' }, director: { address: '192.0.2.10' }, ...Object.fromEntries(REAL_SERVERS.map((name) => [name, { address: ADDRESS[name] }])) },
      lvs: { vips: cluster.vips, services: cluster.services, ...(cluster.stores ? { sessions: { hosts: cluster.stores, memory_mb: 32 } } : {}) },
    });
  const run = async (args: string[]): Promise<ReturnType<typeof parseJson>> => {
    const result = await runCli([...args, ...LIMIT, '--json'], { namespace: lab.controlNamespace });
    expect(result.code, `lvsprov ${args.join(' ')}\n${result.stdout.slice(0, 4000)}\n${result.stderr}`).toBe(0);
    return parseJson(result);
  };
  const unchanged = (report: ReturnType<typeof parseJson>): string[] => report.hosts.filter((host) => host.changes.length > 0 || host.status !== 'ok').map((host) => `${host.host}: ${host.status} ${host.changes.map((change) => change.summary).join('; ')}`);

  /** The DR VIPs a real server of the play holds on lo: its services', and those it is the sorry server of. */
  const drVips = (cluster: ReturnType<typeof randomCluster>, host: string): string[] =>
    [
      ...new Set(
        cluster.services
          .filter((service) => service.forwarding === 'dr' && (service.real_servers.some((server) => server.host === host) || service.sorry_server?.address === ADDRESS[host]))
          .map((service) => cluster.vips[service.vip]?.address as string),
      ),
    ].sort();
  const loVips = async (host: string): Promise<string[]> =>
    (await labSh(lab, host, 'ip -o -4 addr show dev lo'))
      .split('\n')
      .flatMap((line) => /inet (198\.51\.100\.\d+)\/32/.exec(line)?.[1] ?? [])
      .sort();

  it(`converges at each of ${STEPS} steps, prunes what a step drops, and resets`, async () => {
    const random = seeded(SEED);
    let last = '';
    for (let step = 0; step < STEPS; step++) {
      const cluster = randomCluster(random);
      const inventory = inventoryOf(cluster, step);
      const context = `step ${step}: ${stringify({ lvs: { vips: cluster.vips, services: cluster.services }, play: cluster.play, stores: cluster.stores })}`;
      await run(['apply', '-i', inventory]);
      expect(unchanged(await run(['apply', '-i', inventory])), `second apply, ${context}`).toEqual([]);
      expect(unchanged(await run(['apply', '-i', inventory, '--check'])), `--check, ${context}`).toEqual([]);
      for (const host of cluster.play) expect({ host, vips: await loVips(host) }, context).toEqual({ host, vips: drVips(cluster, host) });
      last = inventory;
    }
    await run(['reset', '-i', last, '--yes']);
    expect(unchanged(await run(['reset', '-i', last, '--yes'])), 'a second reset').toEqual([]);
  }, 900_000);
});
