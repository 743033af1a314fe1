import { isIPv4, isIPv6 } from 'node:net';
import { blobType, fingerprint, type KnownKey } from './known-hosts.js';
import type { StrictHostKeyChecking } from './types.js';

// CheckHostIP (ssh_config): besides the host's name, ssh looks the host key up under the address it
// connected to (sshconnect.c check_host_key). A key of the same type recorded for that address that
// differs from the one presented is refused ("the host key for NAME differs from the key for the IP
// address"), as ssh refuses it under StrictHostKeyChecking yes or accept-new, and under ask without a
// terminal to confirm on; under StrictHostKeyChecking no ssh prints the warning and goes on, and
// records nothing for the address. An address with no key of that type has the key recorded under
// it once the login succeeds. ssh skips
// the check for a certificate, an address as the HostName, a loopback connection and a host reached
// through a proxy; the caller leaves those out. Pure: the caller reads and writes known_hosts.

export type HostIpVerdict = { readonly accept: true; readonly record: boolean; readonly warning?: string } | { readonly accept: false; readonly reason: string };

/** The address ssh would check for this connection (an IPv4-mapped one as plain IPv4), or undefined: the name itself, loopback, none. */
export function addressToCheck(name: string, address: string | undefined): string | undefined {
  if (address === undefined || !(isIPv4(address) || isIPv6(address))) return undefined;
  const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  return plain === name || plain.startsWith('127.') || plain === '::1' ? undefined : plain;
}

/** The key a host presented (a plain key, not a certificate) against the keys recorded for the address it was reached at. */
export function checkHostIp(presented: Buffer, recorded: readonly KnownKey[], context: { readonly name: string; readonly address: string; readonly files: string; readonly strict?: StrictHostKeyChecking }): HostIpVerdict {
  const type = blobType(presented);
  const sameType = recorded.filter((key) => key.type === type);
  if (sameType.some((key) => key.revoked && key.blob.equals(presented))) return { accept: false, reason: `host key ${fingerprint(presented)} is marked @revoked for the IP address ${context.address} in ${context.files}` };
  const live = sameType.filter((key) => !key.revoked);
  if (live.some((key) => key.blob.equals(presented))) return { accept: true, record: false };
  if (live.length === 0) return { accept: true, record: true };
  const differs = `the ${type} host key for ${context.name} (${fingerprint(presented)}) differs from the key for the IP address ${context.address} in ${context.files} (${live.map((key) => fingerprint(key.blob)).join(', ')})`;
  if (context.strict === 'no') return { accept: true, record: false, warning: `${differs}; StrictHostKeyChecking no: going on, as ssh does` };
  return {
    accept: false,
    reason: `${differs}; CheckHostIP yes refuses it, as ssh does (StrictHostKeyChecking ${context.strict ?? 'ask'}): a DNS name pointing at another host, or a stale line for the address`,
  };
}
