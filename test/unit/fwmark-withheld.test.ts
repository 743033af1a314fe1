import { describe, expect, it } from 'vitest';
import { fwmark, fwmarkSchema, gainingMarks, ruleText } from '../../src/resources/fwmark.js';
import { planTable } from '../../src/resources/ipvs/plan.js';
import { ipvsSchema } from '../../src/resources/ipvs/schema.js';
import type { Table } from '../../src/resources/ipvs/model.js';
import type { NftTableFacts } from '../../src/resources/nft-table.js';
import { withoutWithheld } from '../../src/resources/keepalived/withheld.js';
import { weightKey } from '../../src/resources/keepalived/config-weights.js';
import type { KeepalivedSpec } from '../../src/resources/keepalived/schema.js';

// A mark that comes to cover a new address sends that address's new connections to every server
// of its service, and each DR or TUN server gets that VIP only in its prepare. Where one of them
// failed to prepare, the director sends it no new connection at all (weight 0) for the run: IPVS
// cannot keep one address of a fwmark service from a server and send it the others.

const V2 = '198.51.100.51';
const V3 = '198.51.100.52';
const RS1 = '192.0.2.11';
const RS2 = '192.0.2.12';
const RS3 = '192.0.2.13';

const marks = fwmarkSchema.parse({
  marks: [
    { address: V3, ports: [80], mark: 2 },
    { address: V2, ports: [8080], mark: 2 },
  ],
});

/** The table as read: V3 marked 2. */
const table: NftTableFacts = { state: 'present', rules: [ruleText({ address: V3, ports: [80], mark: 2 })], file: { exists: false, content: '' } };

const markServers = new Map([[2, [RS2, RS3]]]);

describe('a mark that comes to cover a new address', () => {
  it('is the mark that gains; its change names the servers it asks to serve the address, on the change that loads the marks', () => {
    expect([...gainingMarks(marks, table)]).toEqual([2]);
    expect([...gainingMarks(fwmarkSchema.parse({ marks: [{ address: V3, ports: [80, 443], mark: 2 }] }), table)]).toEqual([]);
    const changes = fwmark.plan(marks, table, { host: 'dir1', markServers });
    expect(changes.map((change) => [change.resource, change.joiningAddresses])).toEqual([
      ['file /etc/lvsprov/fwmark.nft', undefined],
      ['fwmark lvsprov_fwmark', [RS2, RS3]],
    ]);
    // The marks themselves are applied as declared: the servers that are ready take the new address.
    expect(changes.map((change) => change.commands.join('\n')).join('\n')).toContain(`ip daddr ${V2} tcp dport 8080 meta mark set 0x00000002`);
  });

  const service = { protocol: 'fwmark', fwmark: 2, scheduler: 'wrr', real_servers: [{ address: RS1, forwarding: 'nat', port: 80, weight: 2 }, { address: RS2, forwarding: 'dr', weight: 3 }, { address: RS3, forwarding: 'dr', weight: 1 }] };
  const spec = ipvsSchema.parse({ services: [service] });
  const current: Table = [
    {
      protocol: 'fwmark', address: '', port: 0, fwmark: 2, scheduler: 'wrr', options: [],
      realServers: [
        { address: RS1, port: 80, forwarding: 'nat', weight: 2, options: [] },
        { address: RS2, port: 0, forwarding: 'dr', weight: 3, options: [] },
        { address: RS3, port: 0, forwarding: 'dr', weight: 1, options: [] },
      ],
    },
  ];
  const weights = (withheld: Set<string>, gaining: Set<number>): string[] => planTable(spec, current, withheld, gaining).table.flatMap((entry) => entry.realServers.map((server) => `${server.address} ${server.weight}`));

  it("sends a withheld DR or TUN server of the mark's service no new connection (weight 0) while the mark gains an address; a NAT one needs no VIP", () => {
    expect(weights(new Set([RS2, RS1]), new Set([2]))).toEqual([`${RS1} 2`, `${RS2} 0`, `${RS3} 1`]);
    const edit = planTable(spec, current, new Set([RS2]), new Set([2])).changes.map((change) => change.summary);
    expect(edit).toEqual([expect.stringMatching(new RegExp(`${RS2.replaceAll('.', '\\.')}:0 .*weight 3 -> 0`))]);
  });

  it('leaves it as it is where the mark gains nothing, or nothing is withheld', () => {
    expect(weights(new Set([RS2]), new Set())).toEqual([`${RS1} 2`, `${RS2} 3`, `${RS3} 1`]);
    expect(weights(new Set([RS2]), new Set([7]))).toEqual([`${RS1} 2`, `${RS2} 3`, `${RS3} 1`]);
    expect(weights(new Set(), new Set([2]))).toEqual([`${RS1} 2`, `${RS2} 3`, `${RS3} 1`]);
  });

  it('does the same in a keepalived config: the withheld server written at weight 0', () => {
    const keepalived = {
      virtual_servers: [{ protocol: 'fwmark', fwmark: 2, forwarding: 'dr', real_servers: [{ address: RS2, port: 0, weight: 3 }, { address: RS3, port: 0, weight: 1 }] }],
    } as unknown as KeepalivedSpec;
    const [virtual] = keepalived.virtual_servers;
    const configured = { weights: new Map((virtual?.real_servers ?? []).map((server) => [weightKey(virtual as never, server), server.weight])), methods: new Map() };
    const serverWeights = (gaining: Set<number>): number[] => withoutWithheld(keepalived, configured, new Set([RS2]), gaining).virtual_servers.flatMap((entry) => entry.real_servers.map((server) => server.weight));
    expect(serverWeights(new Set([2]))).toEqual([0, 1]);
    expect(serverWeights(new Set())).toEqual([3, 1]);
  });
});
