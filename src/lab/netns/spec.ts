import { z } from 'zod';
import { interfaceName, ipv4, ipv4Cidr } from '../../config/values.js';
import { isIpv4, isUsableHost, networksOverlap, parseNetwork } from '../../net/ipv4.js';
import { isLabNetwork, labRanges } from './lab-ranges.js';

// What a lab looks like: subnets (each a bridge in the control namespace) and hosts (each a
// network namespace with its own filesystem and sshd). Every name here ends up in a namespace
// name, a device name or a file name, so the patterns are strict enough to need no quoting.

/** Short, no dash: namespaces are `<lab>-<host>`, so one lab's prefix never matches another's. */
const labName = z.string().regex(/^[a-z][a-z0-9]{0,11}$/, 'must be 1-12 of a-z 0-9, starting with a letter');

/** A valid hostname label; `control` is taken by the control namespace. */
const hostName = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, 'must be a hostname label (a-z 0-9 -, at most 32)')
  .refine((name) => name !== 'control', { message: '"control" names the control namespace' });

const subnetName = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 of A-Z a-z 0-9 _ -');

const labNetwork = ipv4Cidr.superRefine((cidr, ctx) => {
  const network = safeNetwork(cidr);
  if (!network) {
    // A malformed cidr was reported by ipv4Cidr already; what is left is host bits set.
    if (ipv4Cidr.safeParse(cidr).success) ctx.addIssue({ code: 'custom', message: 'must have no host bits set, e.g. 192.0.2.0/24' });
  } else if (!isLabNetwork(network)) {
    ctx.addIssue({ code: 'custom', message: `must lie inside one of the lab ranges ${labRanges.join(', ')}` });
  }
});

const subnetSchema = z.strictObject({ name: subnetName, cidr: labNetwork, controlAddress: ipv4 });

const interfaceSchema = z.strictObject({ subnet: subnetName, address: ipv4, device: interfaceName.optional() });

const hostSchema = z.strictObject({
  name: hostName,
  interfaces: z.array(interfaceSchema).min(1).max(8),
  /**
   * `systemd`: the host boots systemd as its first process (a PID namespace and a cgroup subtree of
   * its own), which starts its sshd, so that services and boot hooks run under systemd as on a
   * production host. Without it, sshd is the host's only process and services run as sysvinit's.
   */
  init: z.enum(['systemd']).optional(),
});

export const labSpecSchema = z
  .strictObject({
    name: labName,
    subnets: z.array(subnetSchema).min(1).max(16),
    hosts: z.array(hostSchema).min(1).max(1000),
  })
  .superRefine((spec, ctx) => {
    const problem = (path: Array<string | number>, message: string): void => ctx.addIssue({ code: 'custom', path, message });
    const networks = new Map<string, ReturnType<typeof parseNetwork>>();
    const taken = new Map<string, string>();
    spec.subnets.forEach((subnet, index) => {
      const network = safeNetwork(subnet.cidr);
      if (networks.has(subnet.name)) problem(['subnets', index, 'name'], `subnet ${subnet.name} is defined twice`);
      if (!network) return;
      for (const [other, otherNetwork] of networks) {
        if (networksOverlap(network, otherNetwork)) problem(['subnets', index, 'cidr'], `overlaps subnet ${other}`);
      }
      networks.set(subnet.name, network);
      // Refinement failures do not stop zod from running this check, so malformed values are
      // skipped here: their own schemas already reported them.
      if (!isIpv4(subnet.controlAddress)) return;
      if (!isUsableHost(network, subnet.controlAddress)) {
        problem(['subnets', index, 'controlAddress'], `must be a host address inside ${subnet.cidr}`);
      }
      taken.set(subnet.controlAddress, 'the control namespace');
    });
    const hostNames = new Set<string>();
    spec.hosts.forEach((host, hostIndex) => {
      if (hostNames.has(host.name)) problem(['hosts', hostIndex, 'name'], `host ${host.name} is defined twice`);
      hostNames.add(host.name);
      const devices = new Set<string>();
      host.interfaces.forEach((iface, ifIndex) => {
        const path = ['hosts', hostIndex, 'interfaces', ifIndex];
        const device = iface.device ?? `eth${ifIndex}`;
        if (devices.has(device) || device === 'lo') problem([...path, 'device'], `device ${device} is used twice`);
        devices.add(device);
        const network = networks.get(iface.subnet);
        if (!network) {
          problem([...path, 'subnet'], `no subnet named ${iface.subnet}`);
          return;
        }
        if (!isIpv4(iface.address)) return;
        if (!isUsableHost(network, iface.address)) problem([...path, 'address'], `must be a host address in subnet ${iface.subnet}`);
        const owner = taken.get(iface.address);
        if (owner) problem([...path, 'address'], `${iface.address} is already used by ${owner}`);
        taken.set(iface.address, `host ${host.name}`);
      });
    });
  });

export type LabSpec = z.input<typeof labSpecSchema>;

/** A malformed cidr was reported by its own schema; parseNetwork would only repeat it. */
function safeNetwork(cidr: string): ReturnType<typeof parseNetwork> | undefined {
  try {
    return parseNetwork(cidr);
  } catch {
    return undefined;
  }
}

/** Validate a spec, throwing one error that lists every problem as `path: message`. */
export function parseLabSpec(input: unknown): LabSpec {
  const result = labSpecSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `${issue.path.join('.') || '(spec)'}: ${issue.message}`);
  throw new Error(`invalid lab spec:\n  ${lines.join('\n  ')}`);
}
