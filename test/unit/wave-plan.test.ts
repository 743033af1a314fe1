import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PlannedChange } from '../../src/engine/events.js';
import { planWaves, reroutedHosts, serverKey, takenOver } from '../../src/engine/wave-plan.js';
import type { ChangePhase, RealServerRef } from '../../src/resources/types.js';

// Table-driven from test/fixtures/waves/: every host's planned changes (summary, phase, leaving)
// in (and the servers each director keeps at weight 0), the waves (phase, and each host's change
// count in it, in inventory order) and the drains out;
// with the inventory's real servers, the hosts whose default route follows a director's switch
// between NAT and DR or TUN (their host planner then puts it in the reroute wave).

interface Fixture {
  why: string;
  hosts: Record<string, Array<{ summary: string; phase?: ChangePhase; leaving?: RealServerRef; switching?: RealServerRef; announces?: string; handedOver?: { to: string[]; phase: ChangePhase }; awaitsRelease?: { address: string; from: string[] }; restartsPool?: true }>>;
  /** Per director: the real servers its tasks keep at weight 0 (kept-quiesced.ts). */
  quiesced?: Record<string, RealServerRef[]>;
  /** Per draining director: its drained servers that it keeps at weight 0, and the host that restarts each one's daemon. */
  kept?: Record<string, Array<[string, string]>>;
  waves: Array<[ChangePhase, Record<string, number>]>;
  drains: Array<[string, string[]]>;
  /** The inventory's real servers (address -> host), and the hosts whose default route follows a forwarding switch. */
  realServers?: Record<string, string>;
  rerouted?: string[];
  /** Per draining director: the VIPs another director announces in the run (its drain judges their servers by their packets). */
  takenOver?: Record<string, string[]>;
  /** Within balance: each director's second exec, for a VIP it takes over, and the directors it waits for. */
  takeovers?: Array<{ host: string; address: string; from: string[] }>;
}

const root = join(import.meta.dirname, '../fixtures/waves');

describe('cross-host wave planner', () => {
  for (const file of readdirSync(root).filter((name) => name.endsWith('.json'))) {
    const fixture = JSON.parse(readFileSync(join(root, file), 'utf8')) as Fixture;
    it(`${file.replace(/\.json$/, '')}: ${fixture.why}`, () => {
      const plans = Object.entries(fixture.hosts).map(([host, changes]) => ({
        host,
        changes: changes.map((change): PlannedChange => ({ resource: 'test', commands: [], task: 'test', ...change })),
        ...(fixture.quiesced?.[host] ? { quiesced: fixture.quiesced[host] } : {}),
      }));
      const plan = planWaves(plans, new Map(Object.entries(fixture.realServers ?? {})));
      expect(plan.waves.map((wave) => [wave.phase, Object.fromEntries(wave.hosts.map((entry) => [entry.host, entry.changes.length]))])).toEqual(fixture.waves);
      // Object key order is insertion order: the hosts of a wave keep the order they were given in.
      expect(plan.waves.map((wave) => wave.hosts.map((entry) => entry.host))).toEqual(fixture.waves.map(([, hosts]) => Object.keys(hosts)));
      expect(plan.drains.map((drain) => [drain.host, drain.servers.map(serverKey)])).toEqual(fixture.drains);
      expect([...reroutedHosts(plans, new Map(Object.entries(fixture.realServers ?? {})))]).toEqual(fixture.rerouted ?? []);
      expect(Object.fromEntries(plan.drains.map((drain) => [drain.host, takenOver(plans, drain.host)]))).toEqual(fixture.takenOver ?? Object.fromEntries(plan.drains.map((drain) => [drain.host, []])));
      expect(plan.takeovers).toEqual(fixture.takeovers ?? []);
      expect(Object.fromEntries(plan.drains.flatMap((drain) => (drain.kept ? [[drain.host, drain.kept.map(({ server, restarts }) => [serverKey(server), restarts])]] : [])))).toEqual(fixture.kept ?? {});
    });
  }
});
