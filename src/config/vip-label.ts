import { ipv4ToInt } from '../net/ipv4.js';

// A director's VIP label, `<device>:<address in hex>`, depends on that VIP alone. keepalived's
// reload compares labels and deletes and re-adds an address whose label changed (as the address
// task does), so a label numbered in VIP order would move the other VIPs off and back whenever one
// is added or removed. The kernel keeps 15 bytes of a label: a device of up to 6 characters takes
// all 8 hex digits; a longer one (at most 13, vipInterfaceName) the last 14 - length of them, and
// two VIPs that differ only in the digits left out then share a label, which the kernel and
// keepalived allow (neither looks an address up by its label).

const LABEL_BYTES = 15;

/** The label of `address` on `device`: `eth0:c6336432` for 198.51.100.50. */
export function vipLabel(device: string, address: string): string {
  const hex = ipv4ToInt(address).toString(16).padStart(8, '0');
  const room = Math.max(1, LABEL_BYTES - device.length - 1);
  return `${device}:${hex.slice(-room)}`;
}
