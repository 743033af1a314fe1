import { describe, expect, it } from 'vitest';
import type { PlannedChange } from '../../src/engine/events.js';
import type { WavePlan } from '../../src/engine/wave-plan.js';
import { CHANGE_PHASES } from '../../src/resources/types.js';
import { runOnCluster, type ClusterRun, type Failure } from '../support/cluster-run.js';
import { applyChange, applyCluster, copyCluster, planCluster, type Inventory, type SimHost } from '../support/cluster-sim.js';
import { trafficProblems } from '../support/cluster-traffic.js';
import { checkLvsOrder, director, drainKey, lines, marked, realServer, tcp, udp } from '../support/cross-host-cases.js';
import { DIRECTORS, EDITS, emptyCluster, inventoryCode, inventoryOf, mutate, OTHER_PORT, PORTS, PROTOCOLS, randomCluster, REAL_SERVERS, RIPS, VIPS, type ClusterModel } from '../support/random-cluster.js';
import { pick, seeded } from '../support/seeded-random.js';

// The cross-host plan on a random walk: a live cluster moved from inventory to inventory by
// random operator edits (random-cluster.ts), each move planned by the real host and wave planners
// on the simulated hosts the moves before left behind. Every plan must keep LVS's order
// (checkLvsOrder) and carry the traffic (cluster-traffic.ts: no open connection cut, no new
// connection refused, judged from the hosts' state wave by wave), and applied, leave nothing to
// do for the same inventory. The hand-written cases (cross-host-plan.test.ts) prove the exact
// plans of the moves someone thought of; this walk finds the ones nobody did. A failure names
// the seed and the step and prints both inventories as a hand-written case writes them, with the
// plan; LVSPROV_WALK_SEED and LVSPROV_WALK_STEPS walk another way.

const SEED = Number(process.env.LVSPROV_WALK_SEED ?? 20_260_611);
const STEPS = Number(process.env.LVSPROV_WALK_STEPS ?? 300);

const realServers = new Map(REAL_SERVERS.map((host) => [RIPS[host], host]));
/** The flows the traffic is judged on: every VIP, TCP and UDP, on the services' ports and one only a port-0 service takes. */
const FLOWS = { vips: VIPS, ports: [...PORTS, OTHER_PORT], protocols: PROTOCOLS, directors: DIRECTORS, realServers };

type Plan = { plans: Map<string, PlannedChange[]>; waves: WavePlan };

const plan = (cluster: Map<string, SimHost>, inventory: Inventory): Plan => planCluster(cluster, inventory, { realServers });

/** One move of the live cluster to `after`, planned as `planned`: checked, applied, and planned again. */
function move(cluster: Map<string, SimHost>, after: Inventory, { plans, waves }: Plan): void {
  checkLvsOrder(after, plans, waves);
  const broken = trafficProblems(cluster, after, plans, waves, FLOWS);
  expect(broken, `the traffic:\n${broken.join('\n')}\n`).toEqual([]);
  applyCluster(cluster, after, plans);
  expect(lines(plan(cluster, after).waves), 'planned again after the apply').toEqual([]);
}

/** Whether the move fails on a cluster that only `before` was applied to: a hand-written case can then show it. */
function failsFromScratch(before: Inventory, after: Inventory): boolean {
  const cluster = new Map<string, SimHost>();
  try {
    applyCluster(cluster, before, plan(cluster, before).plans);
  } catch {
    return false;
  }
  try {
    move(cluster, after, plan(cluster, after));
    return false;
  } catch {
    return true;
  }
}

function report(step: number, edits: readonly string[], before: ClusterModel, after: ClusterModel, planned: Plan | undefined, error: Error): string {
  return [
    `seed ${SEED}, step ${step} of ${STEPS} (${edits.join('; ')}): ${error.message}`,
    `replays from the before inventory alone: ${failsFromScratch(inventoryOf(before), inventoryOf(after)) ? 'yes' : 'no (the cluster the walk left matters)'}`,
    `before: ${inventoryCode(before)}`,
    `after: ${inventoryCode(after)}`,
    ...(planned ? ['plan:', ...lines(planned.waves).map((line) => `  ${line}`), `drains:${planned.waves.drains.length === 0 ? ' none' : ''}`, ...planned.waves.drains.map((drain) => `  ${drain.host}: ${drain.servers.map(drainKey).join(', ')}`)] : []),
  ].join('\n');
}

describe('the cross-host plan on a random walk of inventories', () => {
  it(`keeps LVS's order, carries the traffic and converges at every step (seed ${SEED}, ${STEPS} steps)`, () => {
    const random = seeded(SEED);
    const cluster = new Map<string, SimHost>();
    let model = emptyCluster();
    let changed = 0;
    const edits = new Set<string>();
    for (let step = 1; step <= STEPS; step += 1) {
      const next = step === 1 ? { model: randomCluster(random), edits: ['a new cluster'] } : mutate(random, model);
      const after = inventoryOf(next.model);
      let planned: Plan | undefined;
      try {
        planned = plan(cluster, after);
        move(cluster, after, planned);
      } catch (error) {
        throw new Error(report(step, next.edits, model, next.model, planned, error as Error), { cause: error });
      }
      if (planned.waves.waves.length > 0) changed += 1;
      for (const edit of next.edits) edits.add(edit);
      model = next.model;
    }
    // The walk proves little unless its moves change the cluster, and every kind of edit came up.
    expect(changed).toBeGreaterThan(STEPS * 0.9);
    expect([...edits].sort()).toEqual([...EDITS].sort());
  });
});

// The same walk with a host that fails: each move is applied by the engine itself (runWaves, over
// sessions on the simulated hosts: cluster-run.ts) while one random host is unreachable, loses its
// read or its drain, or fails at a random section of one of its waves. A failed host does not stop
// the others, and what depends on it is held back (hold-back.ts): what the run made, change by
// change, must still carry the traffic (no connection open before cut, no server sent connections
// without its VIP, no new connection refused that both inventories serve). Then the same inventory
// is applied again with every host answering, from whatever the failure left: that move must keep
// the same rules, and converge.

// Open, not fixed: with UDP and port-0 services in the draws, seed 20260612 meets at step 121 a
// director that fails in its balance after it added a server to a fwmark service whose marks were
// about to move to a new VIP, and before they moved: the new server, holding only the new VIP, kept
// taking the old VIP's new connections until the next run. Balance adds such a server before the
// marks (balanceStep); moved after them, it broke the rule that a director's new VIP comes after
// every IPVS change of its balance (checkLvsOrder) and a hand-written case's order: left for a decision.
const FAILING_SEED = Number(process.env.LVSPROV_FAIL_SEED ?? 1);
const FAILING_STEPS = Number(process.env.LVSPROV_FAIL_STEPS ?? 150);
const HOSTS = [...DIRECTORS, ...REAL_SERVERS];
const hostAddresses = new Map<string, string>([['192.0.2.1', 'dir1'], ['192.0.2.2', 'dir2'], ...REAL_SERVERS.map((host): [string, string] => [RIPS[host], host])]);

/** The inventory's real servers by address, as compile.ts makes them: those its IPVS tasks list. */
const listed = (inventory: Inventory): Map<string, string> =>
  new Map(Object.values(inventory).flatMap((tasks) => tasks.flatMap((task) => (task.type === 'ipvs' ? (task.spec as { services: Array<{ real_servers?: Array<{ address: string }> }> }).services.flatMap((service) => (service.real_servers ?? []).flatMap((server) => (realServers.has(server.address) ? [[server.address, realServers.get(server.address) ?? ''] as [string, string]] : []))) : []))));

/** A host and where it fails: a drain only a director has. */
function randomFailure(random: () => number): Failure {
  const at = pick(random, ['connect', 'read', 'drain', ...CHANGE_PHASES, ...CHANGE_PHASES] as const);
  const host = pick(random, at === 'drain' ? DIRECTORS : HOSTS);
  return at === 'connect' || at === 'read' || at === 'drain' ? { host, at } : { host, at, section: Math.floor(random() * 4) };
}

const failureText = (failure: Failure): string => `${failure.host} fails ${'section' in failure ? `at section ${failure.section} of its ${failure.at} wave` : `at its ${failure.at}`}`;

/** What the run did, for a failure's report: each host's status, what it made and held back. */
const runText = (run: ClusterRun): string[] =>
  run.results.flatMap((result) => [
    `  ${result.host}: ${result.status}${result.error ? ` (${result.error.message})` : ''}`,
    ...(run.made.get(result.host) ?? []).map((change) => `    made: ${change.summary}`),
    ...(result.heldBack ?? []).map((held) => `    held back (${held.phase}): ${held.summary}: ${held.reason}`),
  ]);

describe('moves the walk found', () => {
  // Seed 12, step 109: the edit that took the fwmark service's only server to weight 0 ran before
  // the marks moved the VIP's port to the new port service; in between that port's new
  // connections met a service with no server to take them.
  it("a VIP's port moved from a fwmark service to a port service while the fwmark service's only server goes to weight 0: the marks move first", () => {
    const [V2, V4] = [VIPS[1], VIPS[3]];
    const before: Inventory = { dir1: director([marked(2, [{ address: RIPS.rs4 }], { persistence: undefined })], [{ address: V4, ports: [8080], mark: 2 }]), rs1: realServer([V4, 'tunl0']), rs4: realServer([V4, 'lo']) };
    const after: Inventory = {
      dir1: director([tcp(V4, 8080, [{ address: RIPS.rs1, forwarding: 'tun' }, { address: RIPS.rs4, weight: 0 }]), marked(2, [{ address: RIPS.rs4, weight: 0 }], { persistence: { timeout: 900 } })], [{ address: V2, ports: [80], mark: 2 }]),
      rs1: realServer([V4, 'tunl0']),
      rs4: realServer([V2, 'lo'], [V4, 'lo']),
    };
    const cluster = new Map<string, SimHost>();
    move(cluster, before, plan(cluster, before));
    move(cluster, after, plan(cluster, after));
  });

  // Seed 20260611, step 35 (the walk with UDP): a UDP service's server switched from TUN to DR.
  // IPVS keeps a flow's entry on the method it was made by while its datagrams keep coming, and
  // the switch listed only its TCP connections for the drain: the retire took the VIP off the
  // server's tunl0 at once, and the flow's next datagrams went through the tunnel to nothing.
  it("a UDP service's real server switched from TUN to DR: the drain waits for its flows made through the tunnel before tunl0 lets the VIP go", () => {
    const V1 = VIPS[0];
    const before: Inventory = { dir1: director([udp(V1, 80, [{ address: RIPS.rs1, forwarding: 'tun' }, { address: RIPS.rs2 }])]), rs1: realServer([V1, 'tunl0']), rs2: realServer([V1, 'lo']) };
    const after: Inventory = { dir1: director([udp(V1, 80, [{ address: RIPS.rs1 }, { address: RIPS.rs2 }])]), rs1: realServer([V1, 'lo']), rs2: realServer([V1, 'lo']) };
    const cluster = new Map<string, SimHost>();
    move(cluster, before, plan(cluster, before));
    const planned = plan(cluster, after);
    expect(planned.waves.drains.map((drain) => `${drain.host}: ${drain.servers.map(drainKey).join(', ')}`)).toEqual(['dir1: -u 198.51.100.50:80 192.0.2.11:80']);
    move(cluster, after, planned);
  });
});

describe('the random walk with a failing host', () => {
  // Found by this walk (seeds 5 and 6): the director's new mark rule sent the VIP's new
  // connections to a server of the service whose host never got the VIP.
  it('a mark that comes to cover a VIP while a DR server of its service is unreachable: that server takes no new connection (weight 0), held back, until a run in which it answers', async () => {
    const [V2, V3] = [VIPS[1], VIPS[2]];
    const servers = [{ address: RIPS.rs1 }, { address: RIPS.rs2 }];
    const before: Inventory = { dir1: director([marked(2, servers)], [{ address: V3, ports: [80], mark: 2 }]), rs1: realServer([V3, 'lo']), rs2: realServer([V3, 'lo']) };
    // The mark moves to V2 (its VIP renumbered): the service has no other address left.
    const after: Inventory = { dir1: director([marked(2, servers)], [{ address: V2, ports: [80], mark: 2 }]), rs1: realServer([V2, 'lo']), rs2: realServer([V2, 'lo']) };
    const cluster = new Map<string, SimHost>();
    move(cluster, before, plan(cluster, before));
    const start = copyCluster(cluster);
    const run = await runOnCluster(cluster, after, { realServers: listed(after), hostAddresses, failure: { host: 'rs2', at: 'connect' } });
    expect(trafficProblems(start, after, run.made, { waves: [], drains: run.drains, takeovers: [] }, FLOWS)).toEqual([]);
    const dir1 = run.results.find((result) => result.host === 'dir1');
    expect(dir1?.heldBack?.map((held) => `${held.summary}: ${held.reason}`)).toEqual([expect.stringMatching(/^new connections to real server 192\.0\.2\.12 \(fwmark lvsprov_fwmark\): rs2 \(192\.0\.2\.12\) was unreachable/)]);
    // V2 is marked and served by rs1 alone; rs2 keeps its connections at weight 0.
    const made = run.made.get('dir1')?.map((change) => change.summary) ?? [];
    expect(made).toEqual(expect.arrayContaining([expect.stringMatching(/^nftables table lvsprov_fwmark: /), expect.stringMatching(/192\.0\.2\.12:0 .*weight 1 -> 0/)]));
    move(cluster, after, plan(cluster, after));
  });

  it(`carries the traffic through a host's failure, and converges once it answers again (seed ${FAILING_SEED}, ${FAILING_STEPS} steps)`, async () => {
    const random = seeded(FAILING_SEED);
    const cluster = new Map<string, SimHost>();
    let model = emptyCluster();
    const failed = new Set<string>();
    for (let step = 1; step <= FAILING_STEPS; step += 1) {
      const next = step === 1 ? { model: randomCluster(random), edits: ['a new cluster'] } : mutate(random, model);
      const after = inventoryOf(next.model);
      const failure = randomFailure(random);
      const start = copyCluster(cluster);
      let run: ClusterRun | undefined;
      let planned: Plan | undefined;
      try {
        run = await runOnCluster(cluster, after, { realServers: listed(after), hostAddresses, failure });
        // The sessions ran each section as it came; the changes the results say were made, run again from the start, must leave the same.
        const replayed = copyCluster(start);
        for (const [host, changes] of run.made) for (const change of changes) applyChange(replayed, after, host, change);
        for (const [host, state] of cluster) expect(JSON.stringify([...(replayed.get(host)?.facts ?? [])].sort()), `${host}'s facts replayed`).toBe(JSON.stringify([...state.facts].sort()));
        const broken = trafficProblems(start, after, run.made, { waves: [], drains: run.drains, takeovers: [] }, FLOWS);
        expect(broken, `the traffic of the failing run:\n${broken.join('\n')}\n`).toEqual([]);
        const stopped = run.results.find((result) => result.host === failure.host)?.status;
        if (stopped === 'failed' || stopped === 'unreachable') failed.add(`${stopped} ${failure.at}`);
        planned = plan(cluster, after);
        move(cluster, after, planned);
      } catch (error) {
        const text = [
          `seed ${FAILING_SEED}, step ${step} of ${FAILING_STEPS} (${next.edits.join('; ')}; ${failureText(failure)}): ${(error as Error).message}`,
          `before: ${inventoryCode(model)}`,
          `after: ${inventoryCode(next.model)}`,
          ...(run ? ['the failing run:', ...runText(run)] : []),
          ...(planned ? ['the run again:', ...lines(planned.waves).map((line) => `  ${line}`)] : []),
        ];
        throw new Error(text.join('\n'), { cause: error });
      }
      model = next.model;
    }
    // Every kind of failure came up, and stopped a host.
    expect([...failed].sort()).toEqual(expect.arrayContaining(['unreachable connect', 'failed read', 'failed drain', ...CHANGE_PHASES.filter((phase) => phase !== 'reroute').map((phase) => `failed ${phase}`)]));
  });
});
