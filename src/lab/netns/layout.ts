import { parseNetwork } from '../../net/ipv4.js';
import type { LabSpec } from './spec.js';

// The names a validated spec turns into. Pure, so the naming rules are tested without root.

export interface SubnetLayout {
  readonly name: string;
  readonly cidr: string;
  readonly prefixLength: number;
  readonly controlAddress: string;
  /** Bridge device inside the control namespace. */
  readonly bridge: string;
}

export interface InterfaceLayout {
  readonly subnet: string;
  readonly address: string;
  readonly prefixLength: number;
  /** Device name inside the host, e.g. eth0. */
  readonly device: string;
  /** The veth peer inside the control namespace, enslaved to the subnet's bridge. */
  readonly peer: string;
  readonly bridge: string;
}

export interface HostLayout {
  readonly name: string;
  readonly namespace: string;
  readonly interfaces: readonly InterfaceLayout[];
  readonly init?: 'systemd';
}

export interface LabLayout {
  readonly name: string;
  readonly controlNamespace: string;
  readonly subnets: readonly SubnetLayout[];
  readonly hosts: readonly HostLayout[];
}

/** Every namespace of a lab starts with this, and no other lab's does (lab names have no dash). */
export function namespacePrefix(labName: string): string {
  return `${labName}-`;
}

export function layoutLab(spec: LabSpec): LabLayout {
  const subnets = spec.subnets.map((subnet, index) => ({
    name: subnet.name,
    cidr: subnet.cidr,
    prefixLength: parseNetwork(subnet.cidr).prefixLength,
    controlAddress: subnet.controlAddress,
    bridge: `br${index}`,
  }));
  const byName = new Map(subnets.map((subnet) => [subnet.name, subnet]));
  const hosts = spec.hosts.map((host, hostIndex) => ({
    name: host.name,
    namespace: `${namespacePrefix(spec.name)}${host.name}`,
    interfaces: host.interfaces.map((iface, ifIndex) => {
      const subnet = byName.get(iface.subnet);
      if (!subnet) throw new Error(`host ${host.name}: no subnet named ${iface.subnet}`);
      return {
        subnet: subnet.name,
        address: iface.address,
        prefixLength: subnet.prefixLength,
        device: iface.device ?? `eth${ifIndex}`,
        // Index-based so the name fits in 15 bytes however long the host name is.
        peer: `v${hostIndex}-${ifIndex}`,
        bridge: subnet.bridge,
      };
    }),
    ...(host.init ? { init: host.init } : {}),
  }));
  return { name: spec.name, controlNamespace: `${namespacePrefix(spec.name)}control`, subnets, hosts };
}
