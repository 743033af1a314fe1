import { isIPv4 } from 'node:net';
import { z } from 'zod';

// Value schemas shared by the inventory and the resource specs. Each one is strict enough that a
// value which passes it is harmless in a shell even before quoting.

export const ipv4 = z.string().refine((value) => isIPv4(value), { message: 'must be an IPv4 address' });

/** A dotted netmask with contiguous ones, e.g. 255.255.255.0. */
export const netmask = ipv4.refine(
  (value) => {
    const bits = value.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
    const inverted = ~bits & 0xffffffffn;
    return (inverted & (inverted + 1n)) === 0n;
  },
  { message: 'must be a netmask with contiguous ones, such as 255.255.255.0' },
);

/** IPv4 network in CIDR form, e.g. 192.0.2.0/24 or 198.51.100.50/32. */
export const ipv4Cidr = z.string().refine(
  (value) => {
    const [address, length, ...rest] = value.split('/');
    return rest.length === 0 && address !== undefined && isIPv4(address) && /^\d{1,2}$/.test(length ?? '') && Number(length) <= 32;
  },
  { message: 'must be an IPv4 network such as 192.0.2.0/24' },
);

/** Linux interface names: at most 15 bytes, no slash, no whitespace, not `.` or `..`. */
export const interfaceName = z
  .string()
  .regex(/^[A-Za-z0-9_.:@-]{1,15}$/, 'must be a network interface name (1-15 of A-Z a-z 0-9 _ . : @ -)')
  .refine((value) => value !== '.' && value !== '..', { message: 'must be a network interface name' });

/** An interface label as `ip addr ... label` takes it: the device name, a colon and a suffix. */
export const addressLabel = z.string().regex(/^[A-Za-z0-9_.@-]{1,15}(:[A-Za-z0-9_]{1,15})?$/, 'must be a label such as eth0:1 or lo:0');

export const sysctlName = z
  .string()
  .regex(/^[a-z0-9_]+([./][A-Za-z0-9_:@-]+)+$/, 'must be a sysctl name such as net.ipv4.ip_forward');

export const sysctlValue = z
  .union([z.number(), z.string().regex(/^[A-Za-z0-9 \t._:-]*$/, 'must be a plain sysctl value')])
  .transform((value) => String(value));

export const absolutePath = z
  .string()
  .regex(/^\/[^\0\n]*$/, 'must be an absolute path')
  .refine((value) => !value.split('/').includes('..'), { message: 'must not contain ..' });

export const fileMode = z.union([z.number(), z.string()]).transform((value, ctx) => {
  // YAML 1.2 reads 0644 as the decimal number 644, so the digits as written are the octal mode.
  const digits = String(value);
  if (!/^0?[0-7]{3,4}$/.test(digits)) {
    ctx.addIssue({ code: 'custom', message: 'must be an octal file mode such as 0644' });
    return z.NEVER;
  }
  return digits.replace(/^0(?=\d{3}$)/, '');
});

export const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]*$/, 'must be a package name');
export const serviceName = z.string().regex(/^[A-Za-z0-9_.@-]+$/, 'must be a service name');
export const moduleName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a kernel module name');
