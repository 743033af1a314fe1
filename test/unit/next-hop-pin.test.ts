import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parsePinnedRoute, pinNextHop, PINS_SNIPPET, unpinNextHop } from '../../src/resources/ipvs/next-hop-pin.js';

// The pin's shell, run by dash in a network namespace of its own (root: unshare -n) with a veth
// LAN 192.0.2.0/24 and a network behind a gateway: the kernel's routing table read back after each step.

const root = process.getuid?.() === 0;
const lan = ['ip link add lan0 type veth peer name lan1', 'ip addr add 192.0.2.10/24 dev lan0', 'ip link set lan1 up', 'ip link set lan0 up', 'ip route add 198.18.0.0/24 via 192.0.2.1'].join(' && ');

/** Runs each step after the LAN is set up; returns `ip -4 route` after every step. */
function routesAfter(steps: readonly string[]): string[] {
  const script = [lan, ...steps.map((step) => `{ ${step}; } >&2; echo ==; ip -4 route`)].join('\n');
  const run = spawnSync('unshare', ['-n', 'sh', '-ec', script], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split('==\n').slice(1).map((routes) => routes.trim());
}

describe.skipIf(!root)('the next-hop pin of a real server switching between DR and NAT or TUN', () => {
  it('pins an on-link server by way of itself, once however often it runs, and the unpin removes it once', () => {
    const [pinned, again, unpinned, twice] = routesAfter([pinNextHop('192.0.2.11'), pinNextHop('192.0.2.11'), unpinNextHop('192.0.2.11'), unpinNextHop('192.0.2.11')]);
    expect(pinned).toContain('192.0.2.11 via 192.0.2.11 dev lan0 proto 250');
    expect(again).toBe(pinned);
    expect(unpinned).not.toContain('192.0.2.11');
    expect(twice).toBe(unpinned);
  });

  it('leaves a server behind a gateway, a local address and an unreachable one alone', () => {
    const [gateway, local, unreachable] = routesAfter([pinNextHop('198.18.0.5'), pinNextHop('192.0.2.10'), pinNextHop('203.0.113.9')]);
    for (const routes of [gateway, local, unreachable]) expect(routes).not.toContain('proto 250');
  });

  it("leaves an operator's own route to the server alone", () => {
    const [own, unpinned] = routesAfter(['ip route add 192.0.2.12/32 dev lan0', unpinNextHop('192.0.2.12')]);
    expect(own).toContain('192.0.2.12 dev lan0 scope link');
    expect(unpinned).toBe(own);
  });

  it('reads back the pins it made, and no other route, for a later run to remove', () => {
    const steps = [pinNextHop('192.0.2.11'), 'ip route add 192.0.2.12/32 dev lan0', 'ip route add 192.0.2.13/32 via 192.0.2.13 dev lan0', 'ip route add 198.18.1.0/24 via 192.0.2.1 proto 250'];
    const script = [lan, ...steps, PINS_SNIPPET].join('\n');
    const run = spawnSync('unshare', ['-n', 'sh', '-ec', script], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split('\n').filter((line) => line.startsWith('R '));
    expect(lines).toHaveLength(2);
    expect(lines.flatMap((line) => parsePinnedRoute(line.slice(2)) ?? [])).toEqual(['192.0.2.11']);
  });
});
