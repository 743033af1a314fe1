import { intToIpv4, ipv4ToInt } from '../../net/ipv4.js';
import type { LabSpec } from './spec.js';

/**
 * A lab of `count` hosts `h1..hN` on one 198.18.0.0/16 subnet (the benchmarking range), the
 * control namespace at 198.18.0.1 and hosts from 198.18.0.10 on: the shape of large labs.
 */
export function flatLabSpec(name: string, count: number): LabSpec {
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new Error('host count must be 1-1000');
  const first = ipv4ToInt('198.18.0.10');
  return {
    name,
    subnets: [{ name: 'lan', cidr: '198.18.0.0/16', controlAddress: '198.18.0.1' }],
    hosts: Array.from({ length: count }, (_, index) => ({
      name: `h${index + 1}`,
      interfaces: [{ subnet: 'lan', address: intToIpv4(first + index) }],
    })),
  };
}
