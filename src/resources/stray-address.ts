import { z } from 'zod';
import { command } from '../shell/quote.js';
import { interfaceName, ipv4 } from '../config/values.js';
import { throwIfToolMissing } from './missing-tool.js';
import { IPV4_ADDRESSES_PROBE, parseIpv4Addresses } from './ipv4-addresses.js';
import { ownedAddressId as ownedId } from './address.js';
import type { HostContext, ProbeOutput, ResourceType } from './types.js';

// A VIP on a device its roles do not put it on: a copy on a DR or TUN real server's eth0 (added
// by hand, or left by an older setup) makes that server answer the router's ARP for the VIP, as
// arp_ignore does not cover an address the interface itself holds, and the router's clients then
// go to it instead of the director. The host's roles own the VIP on this host, so every copy of
// it on another device is drift: removed, whatever its prefix or label. The host's other
// addresses are not this task's, and it adds nothing: reset and pruning have nothing to undo.

export const strayAddressSchema = z
  .object({
    address: ipv4,
    /** The devices the address belongs on (lo, tunl0, a director's VIP interface): copies there are left to the address tasks. */
    keep_on: z.array(interfaceName).min(1),
  })
  .strict();

export type StrayAddressSpec = z.output<typeof strayAddressSchema>;

export interface HeldAddress {
  readonly device: string;
  readonly prefix: number;
  readonly label: string;
}

export interface StrayAddressFacts {
  /** Every device that holds the address, with the prefix and label it has there. */
  readonly held: readonly HeldAddress[];
}

/**
 * The copies on devices the address does not belong on, but for those lvsprov made (its manifest
 * records them): a VIP a real server switching from TUN to DR still has on tunl0, or a director's
 * that becomes a real server, is removed by pruning in its wave, once the directors stopped
 * sending there, and removed twice it would fail the second `ip addr del`.
 */
function strays(spec: StrayAddressSpec, facts: StrayAddressFacts, context?: HostContext): HeldAddress[] {
  return facts.held.filter((entry) => !spec.keep_on.includes(entry.device) && context?.recorded?.has(ownedId(spec.address, entry.device)) !== true);
}

export const strayAddress: ResourceType<StrayAddressSpec, StrayAddressFacts> = {
  name: 'stray_address',
  schema: strayAddressSchema,
  key: (spec) => `stray_address ${spec.address}`,

  // Every device's addresses, in the read the address tasks share: the copies are the address
  // on any device, whatever prefix it was added with.
  probe: () => IPV4_ADDRESSES_PROBE,

  parse(output: ProbeOutput, spec): StrayAddressFacts {
    throwIfToolMissing(output, 'ip');
    if (output.status !== 0) throw new Error(`reading where ${spec.address} is held failed with status ${output.status}`);
    const { held } = parseIpv4Addresses(output.stdout.split('\n'));
    return { held: held.filter((entry) => entry.address === spec.address).map(({ device, prefix, label }) => ({ device, prefix, label })) };
  },

  plan(spec, facts, context) {
    return strays(spec, facts, context).map((entry) => {
      const before = `${spec.address}/${entry.prefix} label ${entry.label}`;
      const resource = `address ${spec.address} on ${entry.device}`;
      return {
        resource,
        summary: `${resource} (belongs on ${spec.keep_on.join(', ')} only): ${before} -> (absent)`,
        diff: { kind: 'value' as const, before, after: '(absent)' },
        commands: [command('ip', 'addr', 'del', `${spec.address}/${entry.prefix}`, 'dev', entry.device)],
      };
    });
  },

  after(spec, facts, context) {
    const removed = new Set(strays(spec, facts, context));
    return { held: facts.held.filter((entry) => !removed.has(entry)) };
  },
};
