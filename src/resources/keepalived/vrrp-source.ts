import type { KeepalivedSpec } from './schema.js';

// keepalived binds each VRRP instance's sockets to its interface: its unicast adverts leave by
// that device alone. An instance whose unicast source, the director's own address, is held by
// another device sends to its peers by a device that does not reach them: neither hears the
// other, and both hold the VIPs. The read lists the host's addresses by device (`ip -o -4 addr
// show`, between two marker lines); the planner refuses such an instance before anything changes.

/**
 * Shell: the host's devices (`D name`, by the shell's glob, no process) and IPv4 addresses (one
 * `ip -o` line each), between `A+` and `A-`.
 */
export const ADDRESSES_SNIPPET = `printf 'A+\\n'; for ka_dev in /sys/class/net/*; do [ -e "$ka_dev" ] && printf 'D %s\\n' "\${ka_dev##*/}"; done; ip -o -4 addr show 2>/dev/null; printf 'A-\\n'`;

export interface HeldAddress {
  readonly device: string;
  readonly address: string;
}

export interface HostAddresses {
  readonly devices: readonly string[];
  readonly addresses: readonly HeldAddress[];
}

/** The devices (`D name`) and the addresses of `ip -o -4 addr show` lines (`2: eth0    inet 192.0.2.10/24 brd ...`); others are skipped. */
export function parseAddressLines(lines: readonly string[]): HostAddresses {
  const devices = lines.flatMap((line) => (line.startsWith('D ') ? [line.slice(2)] : []));
  const addresses = lines.flatMap((line) => {
    const match = /^\d+:\s+([^\s@]+)(?:@\S+)?\s+inet\s+(\d+\.\d+\.\d+\.\d+)\//.exec(line);
    return match ? [{ device: match[1] as string, address: match[2] as string }] : [];
  });
  return { devices, addresses };
}

/**
 * Why an instance of `spec` would advertise by a device that does not hold its unicast source,
 * when the host holds that address on another device; undefined when none would. A source the
 * host does not hold yet is not judged (a task of the same run may add it), nor an interface the
 * host does not have (keepalived -t refuses that config, naming it).
 */
export function misplacedVrrpSource(spec: KeepalivedSpec, host: HostAddresses, name: string): string | undefined {
  for (const instance of spec.instances) {
    const holders = host.addresses.filter((entry) => entry.address === instance.unicast_src_ip).map((entry) => entry.device);
    if (holders.length === 0 || holders.includes(instance.interface) || !host.devices.includes(instance.interface)) continue;
    return (
      `VRRP instance ${instance.name} would run on ${instance.interface}, but ${name} holds its unicast source ${instance.unicast_src_ip} on ${holders.join(', ')}: ` +
      `keepalived sends the instance's adverts out of ${instance.interface} alone, so its peers would never hear them and each director would hold the VIPs; ` +
      `set lvs.ha.interface to ${holders[0]} (the VIPs may keep their own interface)`
    );
  }
  return undefined;
}
