import { interfaceName } from '../config/values.js';
import { quote } from '../shell/quote.js';
import type { SectionResult } from '../engine/batch-script.js';

// What verify reads on a director, one batch-script section per device that carries a VIP: the
// device's MAC (only the director may answer ARP for the VIP, so this is the MAC to expect) and
// its IPv4 addresses (the VIP itself, and the LAN address that tells which LAN to check).

export interface InterfaceAddress {
  readonly address: string;
  readonly prefix: number;
}

export interface DeviceFacts {
  readonly device: string;
  readonly mac?: string;
  readonly addresses: readonly InterfaceAddress[];
  readonly error?: string;
}

export function deviceProbe(device: string): string {
  interfaceName.parse(device);
  // stderr folded in: a missing device should say so in the report.
  return `cat ${quote(`/sys/class/net/${device}/address`)} 2>&1 && ip -o -4 addr show dev ${quote(device)} 2>&1`;
}

export function parseDeviceFacts(device: string, section: SectionResult | undefined): DeviceFacts {
  if (!section) return { device, addresses: [], error: 'the read script ended early' };
  const lines = section.stdout.split('\n');
  const mac = lines.find((line) => /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(line.trim()))?.trim().toLowerCase();
  const addresses = [...section.stdout.matchAll(/\binet (\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})\b/g)].map((match) => ({
    address: match[1] as string,
    prefix: Number(match[2]),
  }));
  if (section.status !== 0 || !mac) {
    return { device, addresses, error: `cannot read device ${device}: ${section.stdout.trim() || `exit ${section.status}`}` };
  }
  return { device, mac, addresses };
}
