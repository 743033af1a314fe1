import { describe, expect, it } from 'vitest';
import { strayAddress } from '../../src/resources/stray-address.js';

// What the fixtures cannot say: a copy lvsprov made itself (its manifest records it) is left to
// pruning, which removes it in the ordered apply's wave; only copies it never made are drift here.

const spec = strayAddress.schema.parse({ address: '198.51.100.50', keep_on: ['lo'] });
const facts = strayAddress.parse(
  {
    stdout: [
      '1: lo    inet 198.51.100.50/32 scope global lo:0\\       valid_lft forever preferred_lft forever',
      '2: eth0    inet 198.51.100.50/24 brd 198.51.100.255 scope global eth0:9\\       valid_lft forever preferred_lft forever',
      '5: tunl0    inet 198.51.100.50/32 scope global tunl0\\       valid_lft forever preferred_lft forever',
    ].join('\n'),
    status: 0,
  },
  spec,
);

describe('stray_address', () => {
  it('leaves a copy the manifest records (a TUN real server turning DR: its tunl0 VIP) to pruning, and removes the one lvsprov never made', () => {
    const context = { host: 'rs1', recorded: new Set(['address 198.51.100.50 on tunl0', 'address 198.51.100.50 on lo']) };
    expect(strayAddress.plan(spec, facts, context).map((change) => change.commands)).toEqual([['ip addr del 198.51.100.50/24 dev eth0']]);
    const after = strayAddress.after(spec, facts, context);
    expect(after.held.map((entry) => entry.device)).toEqual(['lo', 'tunl0']);
    expect(strayAddress.plan(spec, after, context)).toEqual([]);
  });

  it('without a manifest, every copy off lo goes', () => {
    expect(strayAddress.plan(spec, facts, { host: 'rs1' }).map((change) => change.commands)).toEqual([['ip addr del 198.51.100.50/24 dev eth0'], ['ip addr del 198.51.100.50/32 dev tunl0']]);
  });
});
