import { command, quote } from '../../shell/quote.js';
import type { ClusterTopology } from './topology.js';

// Shell scripts run inside the guest (through its own sshd) around the netns lab: what the lab
// spec cannot express, and the uplink that makes the control namespace the machine's jump host.
// Every value comes from a validated topology or from fixed constants, and is quoted anyway.

export interface UplinkOptions {
  readonly controlNamespace: string;
  /** MAC of the NIC to move (qemu-args.ts labNicMac). */
  readonly mac: string;
  readonly address: string;
  readonly qemuHost: string;
  /** The guest's sshd_config; the jump sshd reuses it, so it serves the guest's host key. */
  readonly sshdConfig: string;
  readonly sshdLog: string;
}

/** Default routes and the client's extra address, one `ip -n` command each. */
export function topologyScript(topology: ClusterTopology, namespaceOf: (host: string) => string): string {
  const lines = ['set -e'];
  for (const { host, via } of topology.defaultRoutes) lines.push(command('ip', '-n', namespaceOf(host), 'route', 'replace', 'default', 'via', via));
  for (const { host, device, cidr } of topology.extraAddresses) lines.push(command('ip', '-n', namespaceOf(host), 'addr', 'add', cidr, 'dev', device));
  return `${lines.join('\n')}\n`;
}

/**
 * Move the uplink NIC into the control namespace and start an sshd there. The control namespace
 * sits on every lab subnet, so that sshd forwards to any host with no routes; the guest's own
 * sshd keeps the first NIC in the root namespace. The NIC is found by its MAC: after the previous
 * lab's namespace was deleted the kernel hands it back to the root namespace asynchronously.
 */
export function uplinkScript(options: UplinkOptions): string {
  const ns = quote(options.controlNamespace);
  return `set -e
nic=
tries=0
while :; do
  for dev in /sys/class/net/*; do
    if [ "$(cat "$dev/address" 2>/dev/null)" = ${quote(options.mac)} ]; then nic=\${dev##*/}; fi
  done
  [ -z "$nic" ] || break
  tries=$((tries + 1))
  if [ "$tries" -gt 600 ]; then echo "no NIC with MAC ${options.mac} in the guest's root namespace" >&2; exit 1; fi
  sleep 0.1
done
ip link set dev "$nic" netns ${ns}
ip -n ${ns} link set dev "$nic" name uplink
ip -n ${ns} addr add ${quote(`${options.address}/32`)} dev uplink
ip -n ${ns} link set dev uplink up
ip -n ${ns} route add ${quote(`${options.qemuHost}/32`)} dev uplink
ip netns exec ${ns} /usr/sbin/sshd -f ${quote(options.sshdConfig)} -E ${quote(options.sshdLog)}
tries=0
until ip netns exec ${ns} ss -Hltn 'sport = :22' | grep -q .; do
  tries=$((tries + 1))
  if [ "$tries" -gt 600 ]; then echo "the jump sshd is not listening: $(tail -n 5 ${quote(options.sshdLog)})" >&2; exit 1; fi
  sleep 0.1
done
`;
}

/**
 * Hand the uplink back to the guest's root namespace (PID 1's) before the lab goes. Left to
 * namespace deletion, the kernel returns it only when the whole namespace is cleaned up, which
 * under emulation takes tens of seconds after real traffic; the next lab would wait for it.
 */
export function releaseUplinkScript(controlNamespace: string): string {
  const ns = quote(controlNamespace);
  return `if ip -n ${ns} link show dev uplink >/dev/null 2>&1; then ip -n ${ns} link set dev uplink netns 1; fi\n`;
}
