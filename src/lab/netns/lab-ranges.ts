import { networkWithin, parseNetwork, type Ipv4Network } from '../../net/ipv4.js';

// Lab addresses must come from the documentation and benchmarking ranges only, so that a lab can
// never shadow an address that exists on a real network.

export const labRanges: readonly string[] = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '198.18.0.0/15'];

export function isLabNetwork(network: Ipv4Network): boolean {
  return labRanges.some((range) => networkWithin(network, parseNetwork(range)));
}
