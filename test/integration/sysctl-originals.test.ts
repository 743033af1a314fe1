import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sysctl, type SysctlSpec } from '../../src/resources/sysctl.js';
import { ORIGINALS_FILE } from '../../src/resources/sysctl-originals.js';
import { inSandbox, isRoot, requireRoot, Sandbox } from './resource-netns.js';

// The record of sysctl originals, for real: the probe, the apply and the reset commands run in
// sh with the real sysctl, awk and sed, inside a network namespace of their own whose /var/lib and
// /etc/sysctl.d are fresh tmpfs mounts in a private mount namespace, so nothing reaches this
// machine's files or its kernel parameters.

const FORWARD = 'net.ipv4.ip_forward';
// A name that starts with another managed name: a prefix match would take one for the other.
const FORWARD_PMTU = 'net.ipv4.ip_forward_use_pmtu';
const RMEM = 'net.ipv4.tcp_rmem';

describe('sysctl originals on a real kernel and shell', () => {
  let box: Sandbox;
  const spec = (file: string, values: Record<string, string | number>, persist = true): SysctlSpec => sysctl.schema.parse({ file, values, persist });
  const forwarding = () => spec('/etc/sysctl.d/90-lvsprov-forward.conf', { [FORWARD]: 1, [RMEM]: '4096 87380 6291456' });
  const pmtu = () => spec('/etc/sysctl.d/90-lvsprov-pmtu.conf', { [FORWARD_PMTU]: 1 });

  const { facts, apply, reset } = inSandbox(() => box, sysctl);
  const value = (name: string) => box.checked(`sysctl -n ${name}`).trim().split(/\s+/).join(' ');
  const records = () => box.sh(`cat ${ORIGINALS_FILE}`).stdout;

  beforeAll(async () => {
    if (!isRoot) return;
    box = await Sandbox.start(['/var/lib', '/etc/sysctl.d']);
    box.checked(`sysctl -q -w ${FORWARD}=0 ${FORWARD_PMTU}=0 '${RMEM}=4096 131072 1048576'`);
  });

  afterAll(() => box?.stop());

  it('records the value each key had before the first change, once, by exact name', (ctx) => {
    requireRoot(ctx);
    expect(apply(pmtu()).map((change) => change.resource)).toEqual([`sysctl ${FORWARD_PMTU}`, 'file /etc/sysctl.d/90-lvsprov-pmtu.conf']);
    expect(records()).toBe(`${FORWARD_PMTU}=0\n`);

    // ip_forward has no record of its own, though a line starts with its name.
    apply(forwarding());
    expect(records()).toBe(`${FORWARD_PMTU}=0\n${FORWARD}=0\n${RMEM}=4096 131072 1048576\n`);
    expect([value(FORWARD), value(RMEM)]).toEqual(['1', '4096 87380 6291456']);
    expect(box.sh(`stat -c %a ${ORIGINALS_FILE}`).stdout.trim()).toBe('644');
    expect(facts(forwarding()).originals).toEqual({ [FORWARD]: '0', [RMEM]: '4096 131072 1048576' });
  });

  it('keeps the first record when a later apply repairs drift', (ctx) => {
    requireRoot(ctx);
    box.checked(`sysctl -q -w ${FORWARD}=0`);
    const repair = apply(forwarding());
    expect(repair.map((change) => change.summary)).toEqual([`set ${FORWARD} 0 -> 1`]);
    expect(repair[0]?.commands).toEqual(["printf '%s\\n' 1 > /proc/sys/net/ipv4/ip_forward"]);
    expect(records()).toBe(`${FORWARD_PMTU}=0\n${FORWARD}=0\n${RMEM}=4096 131072 1048576\n`);
    expect(sysctl.plan(forwarding(), facts(forwarding()), { host: 'sandbox' })).toEqual([]);
  });

  it('reset restores the recorded values, removes the file and only its own records; a second reset changes nothing', (ctx) => {
    requireRoot(ctx);
    const undone = reset(forwarding());
    expect(undone.map((change) => change.summary)).toEqual([
      `restore ${FORWARD} 1 -> 0`,
      `restore ${RMEM} 4096 87380 6291456 -> 4096 131072 1048576`,
      'remove /etc/sysctl.d/90-lvsprov-forward.conf',
      `forget 2 recorded originals in ${ORIGINALS_FILE}`,
    ]);
    expect([value(FORWARD), value(RMEM), value(FORWARD_PMTU)]).toEqual(['0', '4096 131072 1048576', '1']);
    expect(box.sh('test -e /etc/sysctl.d/90-lvsprov-forward.conf').status).toBe(1);
    expect(records()).toBe(`${FORWARD_PMTU}=0\n`);
    expect(reset(forwarding())).toEqual([]);

    // The last record takes the file and lvsprov's directory with it.
    expect(reset(pmtu()).map((change) => change.summary)).toEqual([
      `restore ${FORWARD_PMTU} 1 -> 0`,
      'remove /etc/sysctl.d/90-lvsprov-pmtu.conf',
      `forget 1 recorded original in ${ORIGINALS_FILE}`,
    ]);
    expect(box.sh('test -e /var/lib/lvsprov').status).toBe(1);
    expect(reset(pmtu())).toEqual([]);
  });

  it('a value already right when lvsprov takes a key over is recorded too, so reset keeps it', (ctx) => {
    requireRoot(ctx);
    box.checked(`sysctl -q -w ${FORWARD}=1`);
    const router = spec('/etc/sysctl.d/90-lvsprov-router.conf', { [FORWARD]: 1 });
    expect(apply(router).map((change) => change.summary)).toEqual(['create /etc/sysctl.d/90-lvsprov-router.conf']);
    expect(records()).toBe(`${FORWARD}=1\n`);
    expect(reset(router).map((change) => change.summary)).toEqual(['remove /etc/sysctl.d/90-lvsprov-router.conf', `forget 1 recorded original in ${ORIGINALS_FILE}`]);
    expect(value(FORWARD)).toBe('1');
    box.checked(`sysctl -q -w ${FORWARD}=0`);
  });

  it('without a record, a key lvsprov set goes to the kernel default; a device rp_filter to what default holds', (ctx) => {
    requireRoot(ctx);
    // As a host provisioned before originals were recorded: the file is there, no record.
    box.checked('ip link add lvs0 type veth peer name lvs1');
    box.checked('sysctl -q -w net.ipv4.conf.default.rp_filter=2 net.ipv4.conf.lvs0.rp_filter=0 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.lo.arp_ignore=1');
    const legacy = spec('/etc/sysctl.d/90-lvsprov-legacy.conf', { 'net.ipv4.conf.lvs0.rp_filter': 0, 'net.ipv4.conf.all.arp_ignore': 1, 'net.ipv4.conf.lo.arp_ignore': 1 });
    box.checked("printf '%s\\n' '# Managed by lvsprov; edits here are overwritten.' 'net.ipv4.conf.lvs0.rp_filter = 0' 'net.ipv4.conf.all.arp_ignore = 1' > /etc/sysctl.d/90-lvsprov-legacy.conf");
    expect(reset(legacy).map((change) => change.summary)).toEqual([
      'restore net.ipv4.conf.lvs0.rp_filter 0 -> 2 (kernel default: no original was recorded)',
      'restore net.ipv4.conf.all.arp_ignore 1 -> 0 (kernel default: no original was recorded)',
      'remove /etc/sysctl.d/90-lvsprov-legacy.conf',
    ]);
    // lo.arp_ignore is not in the file: nothing shows lvsprov ever set it, so it stays.
    expect([value('net.ipv4.conf.lvs0.rp_filter'), value('net.ipv4.conf.all.arp_ignore'), value('net.ipv4.conf.lo.arp_ignore')]).toEqual(['2', '0', '1']);
    expect(reset(legacy)).toEqual([]);
  });
});
