import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { address } from '../../src/resources/address.js';
import { checked, converge, createNetns, deleteNetns, inNetns, isRoot, plan, requireRoot } from './resource-netns.js';

// A VIP that moves from one director to another, on real network namespaces: the router learned
// the VIP at dir1's MAC, and dir1 still holds the VIP here (an apply has it let go in the same
// balance wave, engine/vip-handover.ts; a host outside the run keeps it). The announce the address
// task plans for a director's new VIP (gratuitous ARP, balance wave) moves the router's entry to
// dir2 at once; without it the router keeps probing dir1's MAC, which answers.

const VIP = '198.51.100.50';
const tag = process.pid % 10000;
const [router, dir1, dir2] = [`lvsr${tag}`, `lvsd1${tag}`, `lvsd2${tag}`];

const mac = (ns: string): string => checked(inNetns(ns, 'cat /sys/class/net/eth0/address'), 'mac').trim();
const routerEntry = (): string => checked(inNetns(router, `ip neigh show ${VIP} dev br0`), 'ip neigh').trim();

describe('a director announces a VIP it adds (gratuitous ARP)', () => {
  beforeAll(() => {
    if (!isRoot) return;
    for (const ns of [router, dir1, dir2]) createNetns(ns);
    checked(inNetns(router, `ip link add br0 type bridge && ip link set br0 up && ip addr add 192.0.2.1/24 dev br0 && ip route add ${VIP}/32 dev br0`), 'router');
    [dir1, dir2].forEach((ns, index) => {
      checked(inNetns(router, `ip link add p${index} type veth peer name eth0 netns ${ns} && ip link set p${index} master br0 && ip link set p${index} up`), `link ${ns}`);
      checked(inNetns(ns, `ip addr add 192.0.2.${10 * (index + 1)}/24 dev eth0 && ip link set eth0 up`), `address ${ns}`);
    });
    checked(inNetns(dir1, `ip addr add ${VIP}/32 dev eth0 label eth0:1`), 'VIP on dir1');
  });

  afterAll(() => {
    for (const ns of [router, dir1, dir2]) deleteNetns(ns);
  });

  it("a director's read of a VIP it lacks names the MAC of the host that answers for it (arping -D), and of none for a free one", (ctx) => {
    requireRoot(ctx);
    const spec = address.schema.parse({ address: VIP, prefix: 32, device: 'eth0', label: 'eth0:1', announce: true });
    const [add] = plan(address, spec, dir2);
    expect(add?.claim).toEqual({ address: VIP, device: 'eth0', by: [mac(dir1).toLowerCase()] });
    const free = address.schema.parse({ address: '198.51.100.51', prefix: 32, device: 'eth0', label: 'eth0:2', announce: true });
    const [addFree] = plan(address, free, dir2);
    expect(addFree?.summary).toContain('198.51.100.51/32');
    expect(addFree?.claim).toBeUndefined();
    // On dir1, which holds it, nothing is asked.
    expect(plan(address, spec, dir1)).toEqual([]);
  });

  it("moves the router's ARP entry for the VIP from the old holder to the new one, while the old one still holds it", async (ctx) => {
    requireRoot(ctx);
    // The router learns the VIP at dir1 (a ping resolves it).
    inNetns(router, `ping -c 1 -W 2 ${VIP}`);
    expect(routerEntry()).toContain(mac(dir1));
    // The kernel ignores a second update of an entry within its locktime (1 s).
    await new Promise((resolve) => setTimeout(resolve, 1200));

    const spec = address.schema.parse({ address: VIP, prefix: 32, device: 'eth0', label: 'eth0:1', announce: true });
    const { changes, apply } = converge(address, spec, dir2);
    expect(apply.status, apply.stderr).toBe(0);
    // The address and its announce both in balance, where the director's services go first.
    expect(changes.map((change) => change.phase ?? 'prepare')).toEqual(['balance', 'balance']);

    const deadline = Date.now() + 5000;
    while (!routerEntry().includes(mac(dir2)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(routerEntry()).toContain(mac(dir2));
    // dir1 still holds the VIP: the announce alone moved the router.
    expect(checked(inNetns(dir1, 'ip -o -4 addr show dev eth0'), 'dir1 addresses')).toContain(VIP);
  });
});
