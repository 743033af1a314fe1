import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ruleScriptContent, sourceRouteBootLines } from '../../src/config/boot-tasks.js';
import { sourceRoute, type SourceRouteSpec } from '../../src/resources/source-route.js';
import { inSandbox, isRoot, requireRoot, Sandbox } from './resource-netns.js';

// A NAT real server's source routes on a real kernel and shell, in a network namespace of its own
// (with a fresh /tmp): the route each source's packets take (`ip route get`), two sources sharing
// one table, the boot script restoring rules and table as often as it runs, a table that another
// rule or route uses refused, and a removal that keeps a shared table's default, also when the
// other source route came after the removal was planned.

describe('source routes on a real kernel', () => {
  let box: Sandbox;
  const spec = (source: string, table = 100): SourceRouteSpec => sourceRoute.schema.parse({ source, via: '192.0.2.10', table, priority: 1000, at_boot: true });
  const { facts, apply, reset } = inSandbox(() => box, sourceRoute);
  const rules = (): string => box.checked('ip -N -4 rule show');
  const table = (number = 100): string => box.checked(`ip -4 route show table ${number}`);
  /** The gateway a packet from `source` to a client takes, or `direct` when it goes on-link. */
  const way = (source: string, to = '203.0.113.100'): string => {
    const line = box.checked(`ip -4 route get ${to} from ${source}`);
    return / via (\S+)/.exec(line)?.[1] ?? 'direct';
  };

  beforeAll(async () => {
    if (!isRoot) return;
    box = await Sandbox.start(['/tmp']);
    // Two RIPs and the director (192.0.2.10) on the LAN, the router 192.0.2.1 the main default, a VIP on lo.
    box.checked(
      'ip link add eth0 type veth peer name peer0 && ip link set peer0 up && ip addr add 192.0.2.11/24 dev eth0 && ip addr add 192.0.2.21/24 dev eth0 && ' +
        'ip link set eth0 up && ip route add default via 192.0.2.1 dev eth0 && ip addr add 198.51.100.50/32 dev lo',
    );
  });

  afterAll(() => box?.stop());

  it('two sources share table 100: their replies go via the director, the VIP and the LAN keep the main table; a second apply changes nothing', (ctx) => {
    requireRoot(ctx);
    expect(apply(spec('192.0.2.11'))).toHaveLength(1);
    // The second source finds the table's default in place: only its rules are added.
    expect(apply(spec('192.0.2.21')).flatMap((change) => change.commands)).toEqual([
      'ip rule add pref 1000 from 192.0.2.21 lookup main suppress_prefixlength 0',
      'ip rule add pref 1001 from 192.0.2.21 lookup 100',
    ]);
    expect([way('192.0.2.11'), way('192.0.2.21'), way('198.51.100.50'), way('192.0.2.11', '192.0.2.99')]).toEqual(['192.0.2.10', '192.0.2.10', '192.0.2.1', 'direct']);
    expect(apply(spec('192.0.2.11'))).toEqual([]);
    expect(apply(spec('192.0.2.21'))).toEqual([]);
    expect(facts(spec('192.0.2.11')).sharers).toEqual(['1001: from 192.0.2.21 lookup 100']);
  });

  it('the boot script restores the rules and the table once they are gone, and running it again adds no rule twice', (ctx) => {
    requireRoot(ctx);
    const script = ruleScriptContent('realserver-nat', [...sourceRouteBootLines(spec('192.0.2.11')), ...sourceRouteBootLines(spec('192.0.2.21'))]);
    box.checked(`cat > /tmp/rules.sh <<'LVSPROV'\n${script}LVSPROV\n`);
    const before = [rules(), table()];
    box.checked('ip rule del pref 1000 from 192.0.2.11 && ip rule del pref 1001 from 192.0.2.11 && ip rule del pref 1000 from 192.0.2.21 && ip rule del pref 1001 from 192.0.2.21 && ip route flush table 100');
    expect(rules()).not.toContain('192.0.2.11');
    expect(table()).toBe('');
    box.checked('sh /tmp/rules.sh');
    expect([rules(), table()]).toEqual(before);
    box.checked('sh /tmp/rules.sh && sh /tmp/rules.sh');
    expect([rules(), table()]).toEqual(before);
    expect(apply(spec('192.0.2.11'))).toEqual([]);
  });

  it('a table another rule looks up, or that holds another route, is refused, naming what is there', (ctx) => {
    requireRoot(ctx);
    box.checked('ip rule add pref 500 fwmark 1 lookup 101 && ip route add 203.0.113.0/24 via 192.0.2.1 table 102');
    expect(() => apply(spec('192.0.2.11', 101))).toThrow('table 101 is looked up by rule "500: from all fwmark 0x1 lookup 101", which lvsprov did not make');
    expect(() => apply(spec('192.0.2.11', 102))).toThrow('table 102 holds routes lvsprov did not make (203.0.113.0/24 via 192.0.2.1 dev eth0)');
    // The kernel made no table 101: nothing was added to it.
    expect(box.sh('ip -4 route show table 101 2>/dev/null').stdout).toBe('');
    expect(rules()).toMatch(/^1001:\s+from 192\.0\.2\.11 lookup 100 *$/m);
  });

  it('removing one source keeps the default the other still uses, also when the other came after the removal was planned', (ctx) => {
    requireRoot(ctx);
    expect(reset(spec('192.0.2.11')).flatMap((change) => change.commands)).toEqual(['ip rule del pref 1000 from 192.0.2.11 lookup 254 suppress_prefixlength 0', 'ip rule del pref 1001 from 192.0.2.11 lookup 100']);
    expect([way('192.0.2.11'), way('192.0.2.21')]).toEqual(['192.0.2.1', '192.0.2.10']);
    // The last source goes with the table's default.
    reset(spec('192.0.2.21'));
    expect(table()).toBe('');
    expect(rules()).not.toMatch(/192\.0\.2\.(11|21)/);
    // An apply that prunes one source route and adds another: the removal was planned from the
    // read, before the other's rules existed, and runs after them (retire): its default stays.
    apply(spec('192.0.2.11'));
    const planned = sourceRoute.reset?.plan(spec('192.0.2.11'), facts(spec('192.0.2.11')), { host: 'sandbox' }) ?? [];
    apply(spec('192.0.2.21'));
    box.checked(['set -e', ...planned.flatMap((change) => change.commands)].join('\n'));
    expect(table()).toMatch(/^default via 192\.0\.2\.10 dev eth0/);
    expect([way('192.0.2.11'), way('192.0.2.21')]).toEqual(['192.0.2.1', '192.0.2.10']);
  });
});
