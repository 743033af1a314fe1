import type { SectionResult } from '../engine/batch-script.js';
import { parseAddressLine } from '../resources/ipv4-addresses.js';
import { parseProcIpvs, parseRates, withRates, type LiveService } from './live-table.js';

// What status reads on a director, as three sections of the host's one read script: the kernel's
// table, ipvsadm's rates, and the IPv4 addresses of every interface (which VIPs it holds).

export const IPVS_TABLE_PROBE = String.raw`if [ -r /proc/net/ip_vs ]; then cat /proc/net/ip_vs
elif command -v ipvsadm >/dev/null 2>&1; then echo 'no /proc/net/ip_vs: the ip_vs module is not loaded (modprobe ip_vs; the director role loads it)'; exit 3
else echo 'no /proc/net/ip_vs and no ipvsadm: install the package ipvsadm and load ip_vs (the director role does both)'; exit 3; fi`;

export const IPVS_RATE_PROBE = String.raw`if ! command -v ipvsadm >/dev/null 2>&1; then echo 'ipvsadm is not installed (Debian and RHEL package ipvsadm), so no rates'; exit 127; fi
ipvsadm -Ln --rate --exact 2>&1`;

export const ADDRESSES_PROBE = 'ip -o -4 addr show 2>&1';

export const directorProbes = [IPVS_TABLE_PROBE, IPVS_RATE_PROBE, ADDRESSES_PROBE] as const;

export interface HeldAddress {
  readonly device: string;
  readonly address: string;
  readonly prefix: number;
  /** `eth0:1` where the address has a label other than the device name. */
  readonly label?: string;
}

export interface DirectorRead {
  /** Null when the table could not be read; `tableError` says why. */
  readonly table: readonly LiveService[] | null;
  readonly tableError?: string;
  /** Why rates are missing, when they are. */
  readonly ratesError?: string;
  readonly addresses: readonly HeldAddress[];
  readonly addressesError?: string;
}

/**
 * `ip -o -4 addr show` (resources/ipv4-addresses.ts reads its lines): status shows what it can, so
 * a line that is not an address (an error `2>&1` kept) is left out rather than failing the read.
 */
export function parseAddresses(text: string): HeldAddress[] {
  return text.split('\n').flatMap((line) => {
    if (!/\sinet\s/.test(line)) return [];
    try {
      const { device, address, prefix, label } = parseAddressLine(line);
      return [{ device, address, prefix, ...(label !== device ? { label } : {}) }];
    } catch {
      return [];
    }
  });
}

/** The three sections, in directorProbes order; a missing section is a read that ended early. */
export function parseDirectorRead(table: SectionResult | undefined, rates: SectionResult | undefined, addresses: SectionResult | undefined): DirectorRead {
  const ended = 'the read script ended early';
  let live: LiveService[] | null = null;
  let tableError: string | undefined;
  if (!table) tableError = ended;
  else if (table.status !== 0) tableError = table.stdout.trim() || `reading /proc/net/ip_vs failed (exit ${table.status})`;
  else {
    try {
      live = parseProcIpvs(table.stdout);
    } catch (error) {
      tableError = (error as Error).message;
    }
  }
  let ratesError: string | undefined;
  if (!rates) ratesError = ended;
  else if (rates.status !== 0) ratesError = rates.stdout.trim().split('\n')[0] || `ipvsadm --rate failed (exit ${rates.status})`;
  else if (live) live = withRates(live, parseRates(rates.stdout));
  const addressesError = !addresses ? ended : addresses.status !== 0 ? addresses.stdout.trim() || `ip addr failed (exit ${addresses.status})` : undefined;
  return {
    table: live,
    ...(tableError !== undefined ? { tableError } : {}),
    ...(ratesError !== undefined ? { ratesError } : {}),
    addresses: addresses && addresses.status === 0 ? parseAddresses(addresses.stdout) : [],
    ...(addressesError !== undefined ? { addressesError } : {}),
  };
}
