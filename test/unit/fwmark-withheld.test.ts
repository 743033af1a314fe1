import { describe, expect, it } from 'vitest';
import { fwmark, fwmarkSchema, ruleText } from '../../src/resources/fwmark.js';
import type { NftTableFacts } from '../../src/resources/nft-table.js';

// A mark that comes to cover a new address asks each DR and TUN server of its service to serve
// that VIP, which the server's prepare gives it. Where one of them failed to prepare, the
// director's new mark would send it connections to an address it does not hold: the address keeps
// what the table marks it with until a run in which every server is ready.

const V2 = '198.51.100.51';
const V3 = '198.51.100.52';
const RS2 = '192.0.2.12';
const RS3 = '192.0.2.13';

const spec = fwmarkSchema.parse({
  marks: [
    { address: V3, ports: [80], mark: 2 },
    { address: V2, ports: [8080], mark: 2 },
  ],
});

/** The table as read: V3 marked 2, and V2 marked 1 for another service when `v2Before`. */
function facts(v2Before = false): NftTableFacts {
  const rules = [ruleText({ address: V3, ports: [80], mark: 2 }), ...(v2Before ? [ruleText({ address: V2, ports: [8080, 8443], mark: 1 })] : [])];
  return { state: 'present', rules, file: { exists: false, content: '' } } as NftTableFacts;
}

const markServers = new Map([[2, [RS2, RS3]]]);
const script = (changes: ReturnType<typeof fwmark.plan>): string => changes.map((change) => change.commands.join('\n')).join('\n');

describe('a new mark where a real server of its service is withheld', () => {
  it('names the servers a new mark asks to serve the address, and marks it while none is withheld', () => {
    const changes = fwmark.plan(spec, facts(), { host: 'dir2', markServers });
    expect(changes.map((change) => [change.resource, change.joiningAddresses])).toEqual([
      ['file /etc/lvsprov/fwmark.nft', undefined],
      ['fwmark lvsprov_fwmark', [RS2, RS3]],
    ]);
    expect(script(changes)).toContain(`ip daddr ${V2} tcp dport 8080 meta mark set 0x00000002`);
  });

  it('leaves the address unmarked while one of them failed to prepare, and keeps the marks it had', () => {
    const changes = fwmark.plan(spec, facts(), { host: 'dir2', markServers, withheld: new Set([RS2]) });
    // The table already marks V3 as declared: no nft change, only its boot file (missing here), without V2.
    expect(changes.map((change) => change.resource)).toEqual(['file /etc/lvsprov/fwmark.nft']);
    expect(script(changes)).not.toContain(`ip daddr ${V2}`);
    // V2 marked 1 for another service before: it stays so, its ports too, rather than losing its mark.
    const moved = fwmark.plan(spec, facts(true), { host: 'dir2', markServers, withheld: new Set([RS2]) });
    expect(moved.map((change) => change.resource)).toEqual(['file /etc/lvsprov/fwmark.nft']);
    expect(script(moved)).toContain(`ip daddr ${V2} tcp dport { 8080, 8443 } meta mark set 0x00000001`);
    expect(script(moved)).not.toContain(`ip daddr ${V2} tcp dport 8080 meta mark set 0x00000002`);
  });

  it('asks nothing where the mark already covers the address, nor of servers of other marks or NAT servers', () => {
    const same = fwmark.plan(fwmarkSchema.parse({ marks: [{ address: V3, ports: [80, 443], mark: 2 }] }), facts(), { host: 'dir2', markServers, withheld: new Set([RS2]) });
    expect(same.map((change) => change.joiningAddresses)).toEqual(same.map(() => undefined));
    expect(script(same)).toContain(`ip daddr ${V3} tcp dport { 80, 443 } meta mark set 0x00000002`);
    const other = fwmark.plan(spec, facts(), { host: 'dir2', markServers: new Map([[1, [RS2]]]), withheld: new Set([RS2]) });
    expect(script(other)).toContain(`ip daddr ${V2} tcp dport 8080`);
  });
});
