import { describe, expect, it } from 'vitest';
import type { PlannedChange } from '../../src/engine/events.js';
import type { WavePlan } from '../../src/engine/wave-plan.js';
import { applyCluster, planCluster, type Inventory, type SimHost } from '../support/cluster-sim.js';
import { trafficProblems } from '../support/cluster-traffic.js';
import { checkLvsOrder, drainKey, lines } from '../support/cross-host-cases.js';
import { DIRECTORS, EDITS, emptyCluster, inventoryCode, inventoryOf, mutate, PORTS, randomCluster, REAL_SERVERS, RIPS, VIPS, type ClusterModel } from '../support/random-cluster.js';
import { seeded } from '../support/seeded-random.js';

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

type Plan = { plans: Map<string, PlannedChange[]>; waves: WavePlan };

const plan = (cluster: Map<string, SimHost>, inventory: Inventory): Plan => planCluster(cluster, inventory, { realServers });

/** One move of the live cluster to `after`, planned as `planned`: checked, applied, and planned again. */
function move(cluster: Map<string, SimHost>, after: Inventory, { plans, waves }: Plan): void {
  checkLvsOrder(after, plans, waves);
  const broken = trafficProblems(cluster, after, plans, waves, { vips: VIPS, ports: PORTS, directors: DIRECTORS, realServers });
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
