import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ROUTE_ORIGINAL, route, type RouteSpec } from '../../src/resources/route.js';
import { inSandbox, isRoot, requireRoot, Sandbox } from './resource-netns.js';

// The default route a NAT real server had before lvsprov pointed it at the director, on a real
// kernel and shell: recorded by the first replace, kept by later ones, and put back by the
// removal (reset, or the prune of a host that leaves NAT). In a network namespace of its own with
// a fresh /var/lib, so nothing reaches this machine's routes or files.

describe('the default route lvsprov replaces, on a real kernel', () => {
  let box: Sandbox;
  const spec = (via: string): RouteSpec => route.schema.parse({ destination: 'default', via });
  const { facts, apply, reset } = inSandbox(() => box, route);
  const defaults = () => box.checked('ip -4 route show exact default').trim();
  const record = () => box.sh(`cat ${DEFAULT_ROUTE_ORIGINAL}`).stdout;

  beforeAll(async () => {
    if (!isRoot) return;
    box = await Sandbox.start(['/var/lib']);
    // The host's own gateway 203.0.113.2 and the director's DIP 192.0.2.1, both on-link.
    box.checked('ip link add eth0 type veth peer name peer0 && ip link set peer0 up && ip addr add 203.0.113.10/24 dev eth0 && ip addr add 192.0.2.11/24 dev eth0 && ip link set eth0 up && ip route add default via 203.0.113.2 dev eth0');
  });

  afterAll(() => box?.stop());

  it('the first replace records the default it overwrote; a second apply changes nothing', (ctx) => {
    requireRoot(ctx);
    expect(apply(spec('192.0.2.1'))).toHaveLength(1);
    expect(defaults()).toBe('default via 192.0.2.1 dev eth0');
    expect(record()).toBe('via 203.0.113.2 dev eth0\n');
    expect(apply(spec('192.0.2.1'))).toEqual([]);
  });

  it('a later replace (the DIP changed) keeps the first record', (ctx) => {
    requireRoot(ctx);
    box.checked('ip addr add 192.0.2.12/24 dev eth0');
    expect(apply(spec('192.0.2.5'))).toHaveLength(1);
    expect(defaults()).toBe('default via 192.0.2.5 dev eth0');
    expect(record()).toBe('via 203.0.113.2 dev eth0\n');
  });

  it('the removal puts the original default back and forgets it; a second removal does nothing', (ctx) => {
    requireRoot(ctx);
    expect(reset(spec('192.0.2.5'))).toHaveLength(1);
    expect(defaults()).toBe('default via 203.0.113.2 dev eth0');
    expect(box.sh(`test -e ${DEFAULT_ROUTE_ORIGINAL}`).status).not.toBe(0);
    expect(reset(spec('192.0.2.5'))).toEqual([]);
  });

  it('with no default before it, nothing is recorded and the removal leaves the route (the session may depend on it)', (ctx) => {
    requireRoot(ctx);
    box.checked('ip route del default');
    expect(apply(spec('192.0.2.1'))).toHaveLength(1);
    expect(box.sh(`test -e ${DEFAULT_ROUTE_ORIGINAL}`).status).not.toBe(0);
    expect(reset(spec('192.0.2.1'))).toEqual([]);
    expect(defaults()).toBe('default via 192.0.2.1 dev eth0');
  });
});
