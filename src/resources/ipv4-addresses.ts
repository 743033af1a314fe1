import { withTool } from './missing-tool.js';

// Every IPv4 address of the host and the names of its devices, in one read that the address tasks
// of every device and the stray-address checks of every VIP share (the read runs a probe text
// once, however many tasks name it): a DR real server's read runs one `ip` for its VIP on lo and
// for the copies of it elsewhere. The device names come from a sysfs glob, which the shell
// expands itself: a device with no address is still known to exist, and a missing one (tunl0
// before ipip is loaded) is a fact, not an error.

const DEVICE = 'lvsprov-device';

/** The shared probe; its status is ip's. */
export const IPV4_ADDRESSES_PROBE = withTool(
  'ip',
  [`for lvsprov_device in /sys/class/net/*; do [ -e "$lvsprov_device" ] && printf '${DEVICE} %s\\n' "\${lvsprov_device##*/}"; done`, 'ip -o -4 addr show'].join('\n'),
);

export interface HeldIpv4 {
  readonly device: string;
  readonly address: string;
  readonly prefix: number;
  /** The kernel reports the device name as the label of an address added without one. */
  readonly label: string;
}

export interface Ipv4Addresses {
  /** The host's devices; undefined for the output of an older lvsprov's probe of one device, which listed none. */
  readonly devices?: ReadonlySet<string>;
  readonly held: readonly HeldIpv4[];
}

/** One line of `ip -o -4 addr show`: `3: eth0    inet 192.0.2.10/24 brd ... scope global eth0:1\  valid_lft ...`. */
export function parseAddressLine(line: string): HeldIpv4 {
  const words = (line.split('\\')[0] ?? '').trim().split(/\s+/);
  const inet = words.indexOf('inet');
  const device = words[1]?.split('@')[0];
  const local = words[inet + 1];
  const label = words[words.length - 1];
  if (inet < 0 || device === undefined || device === '' || local === undefined || label === undefined) throw new Error(`unexpected address line: ${line.slice(0, 120)}`);
  // A point-to-point address prints `inet LOCAL peer PEER/LEN`: the length belongs to the peer
  // and the local address itself is a /32.
  const [address = '', length = '32'] = local.split('/');
  return { device, address, prefix: Number(length), label };
}

/** The probe's output, lines already split off any markers the caller reads itself. */
export function parseIpv4Addresses(lines: readonly string[]): Ipv4Addresses {
  const devices = new Set<string>();
  const held: HeldIpv4[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    if (line.startsWith(`${DEVICE} `)) devices.add(line.slice(DEVICE.length + 1));
    else held.push(parseAddressLine(line));
  }
  return devices.size > 0 ? { devices, held } : { held };
}
