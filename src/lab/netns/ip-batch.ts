import type { HostLayout, LabLayout } from './layout.js';

// `ip -batch` scripts: one process configures a whole namespace, which is what makes hundreds of
// hosts cheap. Every word comes from the validated spec (no whitespace, no quotes), so the lines
// need no escaping for ip's own tokenizer.

export function namespacesBatch(verb: 'add' | 'delete', namespaces: readonly string[]): string {
  return namespaces.map((namespace) => `netns ${verb} ${namespace}\n`).join('');
}

/**
 * The control namespace: a bridge per subnet carrying the control address, and for each host
 * interface a veth pair created here with its other end moved straight into the host's namespace,
 * so no lab device or address ever exists in the root namespace, even for a moment.
 */
export function controlBatch(layout: LabLayout): string {
  const lines = ['link set lo up'];
  for (const subnet of layout.subnets) {
    lines.push(
      `link add ${subnet.bridge} type bridge`,
      `addr add ${subnet.controlAddress}/${subnet.prefixLength} dev ${subnet.bridge}`,
      `link set ${subnet.bridge} up`,
    );
  }
  for (const host of layout.hosts) {
    for (const iface of host.interfaces) {
      lines.push(
        `link add ${iface.peer} type veth peer name ${iface.device} netns ${host.namespace}`,
        `link set ${iface.peer} master ${iface.bridge} up`,
      );
    }
  }
  return lines.map((line) => `${line}\n`).join('');
}

export function hostBatch(host: HostLayout): string {
  const lines = ['link set lo up'];
  for (const iface of host.interfaces) {
    lines.push(`addr add ${iface.address}/${iface.prefixLength} dev ${iface.device}`, `link set ${iface.device} up`);
  }
  return lines.map((line) => `${line}\n`).join('');
}
