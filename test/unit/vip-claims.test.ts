import { describe, expect, it } from 'vitest';
import { address } from '../../src/resources/address.js';
import type { PlannedChange } from '../../src/engine/events.js';
import { claimsOutsideTheRun } from '../../src/engine/vip-claims.js';

// A director's VIP is read with a duplicate address probe when the device lacks it; who answered
// rides on the change that adds it, and the run refuses the director unless a host of the run
// gives that VIP up.

const VIP = '198.51.100.80';
const spec = address.schema.parse({ address: VIP, device: 'eth0', label: 'eth0:c6336450', announce: true });
const ADDRESSES = '2: eth0    inet 192.0.2.10/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever';
const REPLY = `Unicast reply from ${VIP} [52:54:00:AB:CD:EF]  0.533ms`;

describe("a director VIP's read", () => {
  it('is its own (keyed by the VIP), asks arping -D only when the VIP is missing, and keeps ip as its status', () => {
    const plain = address.schema.parse({ address: VIP, device: 'lo', label: 'lo:0' });
    expect(address.key(spec)).toBe(`address eth0 ${VIP}`);
    expect(address.key(plain)).toBe('address lo');
    const probe = address.probe(spec);
    expect(probe).toContain(`*" inet ${VIP}/"*) ;;`);
    expect(probe).toContain(`arping -D -c 1 -w 1 -I eth0 ${VIP}`);
    expect(probe).toMatch(/\[ "\$lvsprov_status" -eq 0 \]\nelse/);
    expect(address.probe(plain)).not.toContain('arping');
  });

  it('parses the MACs that answered (iputils and busybox), and none when nobody did', () => {
    const answered = address.parse({ stdout: `${ADDRESSES}\nlvsprov-arp-claims\nARPING ${VIP} from 0.0.0.0 eth0\n${REPLY}\nUnicast reply from ${VIP} [52:54:00:ab:cd:ef] 0.037ms\nSent 1 probes\nReceived 2 response(s)\n`, status: 0 }, spec);
    expect(answered.claimedBy).toEqual(['52:54:00:ab:cd:ef']);
    expect(answered.addresses.map((entry) => entry.address)).toEqual(['192.0.2.10']);
    const nobody = address.parse({ stdout: `${ADDRESSES}\nlvsprov-arp-claims\nARPING ${VIP} from 0.0.0.0 eth0\nSent 1 probes (1 broadcast(s))\nReceived 0 response(s)\n`, status: 0 }, spec);
    expect(nobody.claimedBy).toEqual([]);
    // The VIP already there: no probe was sent, nothing claimed.
    expect(address.parse({ stdout: `${ADDRESSES}\n`, status: 0 }, spec).claimedBy).toBeUndefined();
  });

  it('puts the claim on the change that adds the VIP; a VIP taken off a device is released', () => {
    const facts = address.parse({ stdout: `${ADDRESSES}\nlvsprov-arp-claims\n${REPLY}\n`, status: 0 }, spec);
    const [add, announce] = address.plan(spec, facts, { host: 'lvs2' });
    expect(add?.claim).toEqual({ address: VIP, device: 'eth0', by: ['52:54:00:ab:cd:ef'] });
    expect(announce?.claim).toBeUndefined();
    const held = address.parse({ stdout: `${ADDRESSES}\n3: eth0    inet ${VIP}/32 scope global eth0:c6336450\\ valid_lft forever\n`, status: 0 }, spec);
    const [removal] = address.plan({ ...spec, state: 'absent' }, held, { host: 'lvs2' });
    expect(removal?.releases).toEqual([VIP]);
  });
});

const change = (fields: Partial<PlannedChange>): PlannedChange => ({ resource: 'x', summary: 'x', commands: [], task: 'x', ...fields });
const claim = (by: string[]): PlannedChange => change({ claim: { address: VIP, device: 'eth0', by } });

describe('claimsOutsideTheRun', () => {
  it.each([
    { name: 'nobody else answered', hosts: [{ host: 'lvs2', changes: [change({})] }], refused: [] },
    { name: 'a host outside the run answers', hosts: [{ host: 'lvs2', changes: [claim(['52:54:00:00:00:01'])] }], refused: ['lvs2'] },
    { name: 'the old director of the run takes the VIP off (kept with no service)', hosts: [{ host: 'lvs2', changes: [claim(['52:54:00:00:00:01'])] }, { host: 'lvs1', changes: [change({ releases: [VIP], phase: 'withdraw' })] }], refused: [] },
    { name: "a stopped keepalived peer's VIPs", hosts: [{ host: 'lvs2', changes: [claim(['52:54:00:00:00:01'])] }, { host: 'lvs1', changes: [change({ releases: ['198.51.100.81', VIP] })] }], refused: [] },
    // A TUN real server moving the VIP to lo (or leaving) takes it off tunl0: no host answers ARP
    // for an address there (arp_ignore), so the director that answered keeps it. Before, any
    // release of the address let the claim go, and a director whose read failed kept the VIP
    // beside its new holder (the random walk with a failing host, seed 1, step 188).
    { name: "a real server's release of the VIP from lo or tunl0 is no hand-over", hosts: [{ host: 'lvs2', changes: [claim(['52:54:00:00:00:01'])] }, { host: 'rs3', changes: [change({ resource: `address ${VIP} on tunl0`, releases: [VIP], phase: 'retire' })] }], refused: ['lvs2'] },
    { name: 'a director of the run taking it off eth0 is', hosts: [{ host: 'lvs2', changes: [claim(['52:54:00:00:00:01'])] }, { host: 'lvs1', changes: [change({ resource: `address ${VIP} on eth0`, releases: [VIP], phase: 'withdraw' })] }], refused: [] },
    { name: 'another VIP released, not this one', hosts: [{ host: 'lvs2', changes: [claim(['52:54:00:00:00:01'])] }, { host: 'lvs1', changes: [change({ releases: ['198.51.100.81'] })] }], refused: ['lvs2'] },
  ])('$name', ({ hosts, refused }) => {
    expect([...claimsOutsideTheRun(hosts).keys()]).toEqual(refused);
  });

  it('says which VIP, on which device, who answered and what to do', () => {
    const reason = claimsOutsideTheRun([{ host: 'lvs2', changes: [claim(['52:54:00:00:00:01'])] }]).get('lvs2') ?? '';
    expect(reason).toContain(`${VIP} is already answered for on eth0 by 52:54:00:00:00:01`);
    expect(reason).toContain('a director dropped from the inventory');
    expect(reason).toContain(`ip addr del ${VIP}/32`);
  });
});
