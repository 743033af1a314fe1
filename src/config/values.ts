import { z } from 'zod';
import { hostAddressProblem } from '../net/host-address.js';
import { invisibleNote } from './text-safety.js';
import { formatNetwork, hasNoHostBits, ipv4Problem, netmaskProblem, networkOf, parseCidr, subnetProblem, unicastProblem } from '../net/ipv4.js';

// Value schemas shared by the inventory and the resource specs. Each one is strict enough that a
// value which passes it is harmless in a shell even before quoting. The address grammar itself
// lives in src/net; these only turn its verdicts into located messages.

/** A zod string checked by `problem`, which says what is wrong with a value or returns undefined. */
function grammar(what: string, problem: (value: string) => string | undefined): z.ZodString {
  return z.string().superRefine((value, ctx) => {
    const why = problem(value);
    if (why !== undefined) ctx.addIssue({ code: 'custom', message: `must be ${what}; ${JSON.stringify(value)} ${why}` });
  });
}

/** The grammar of an inventory host, group or VIP name. */
export const hostNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** An inventory host, group or VIP name; one too long is told so, not that its letters are wrong. */
export const hostName = z.string().regex(hostNamePattern, { error: (issue) => nameMessage('a host name', issue.input) });

/** The cluster's name, which also names its lab and the lab's folder (.lab/NAME): the same grammar. */
export const clusterName = z.string().regex(hostNamePattern, { error: (issue) => nameMessage('a name', issue.input) });

function nameMessage(what: string, input: unknown): string {
  if (typeof input === 'string' && invisibleNote(input) !== '') return `must be ${what} (letters, digits, _ . -)${invisibleNote(input)}`;
  const plain = typeof input === 'string' && /^[A-Za-z0-9_.-]+$/.test(input);
  if (plain && !/^[A-Za-z0-9]/.test(input)) return `must be ${what} (letters, digits, _ . -) starting with a letter or digit`;
  return plain && input.length > 63 ? `must be a name of at most 63 characters, as a host name's label is; this one has ${input.length}` : `must be ${what} (letters, digits, _ . -)`;
}

/** useradd(8): "Usernames may only be up to 32 characters long"; utmp keeps 32 bytes of one. */
export const LOGIN_NAME_MAX = 32;

// One regex holding the length too, so the generated JSON Schema gives editors both.
const LOGIN_NAME = new RegExp(`^[a-z_][a-z0-9_.-]{0,${LOGIN_NAME_MAX - 1}}$`, 'i');

/** Why `value` cannot be a login name (undefined when it can); never starting with `-`, which ssh would read as an option. */
export function loginNameProblem(value: string): string | undefined {
  if (LOGIN_NAME.test(value)) return undefined;
  return /^[a-z_][a-z0-9_.-]*$/i.test(value)
    ? `must be a user name of at most ${LOGIN_NAME_MAX} characters, as useradd makes them; this one has ${value.length}`
    : 'must be a user name (letters, digits, _ . -, not starting with - . or a digit)';
}

export const loginName = z.string().regex(LOGIN_NAME, { error: (issue) => loginNameProblem(String(issue.input)) });

/** A virtual service's name, for messages, status and graphs: as long as a host name's label at most. */
export const virtualServiceName = z.string().regex(/^[A-Za-z0-9_.-]{1,63}$/, {
  error: (issue) => {
    const input = String(issue.input);
    return /^[A-Za-z0-9_.-]+$/.test(input)
      ? `must be a name of at most 63 characters, as a host name's label is; this one has ${input.length}`
      : `must be a name (letters, digits, _ . -)${invisibleNote(input)}`;
  },
});

/** A canonical dotted quad: four decimal numbers 0-255, no leading zeros. */
export const ipv4 = grammar('an IPv4 address such as 192.0.2.10', ipv4Problem);

/** The address of one machine that is not the director itself: a VIP, a floating gateway. */
export const unicastIpv4 = grammar('an IPv4 address such as 192.0.2.10', (value) => ipv4Problem(value) ?? unicastProblem(value, false));

/** A real or sorry server's address: as unicastIpv4, but 127.0.0.1 is the director itself (IPVS's local node). */
export const serverIpv4 = grammar('an IPv4 address such as 192.0.2.10', (value) => ipv4Problem(value) ?? unicastProblem(value, true));

/** A dotted netmask with contiguous ones, e.g. 255.255.255.0. */
export const netmask = grammar('a netmask with contiguous ones, such as 255.255.255.0', netmaskProblem);

/** A netmask where a YAML number (`netmask: 24`) gets the same advice as the string `/24`. */
export const netmaskField = z.preprocess((value) => (typeof value === 'number' ? String(value) : value), netmask);

/** IPv4 network in CIDR form, e.g. 192.0.2.0/24 or 198.51.100.50/32. */
export const ipv4Cidr = grammar('an IPv4 network such as 192.0.2.0/24', (value) => {
  if (parseCidr(value)) return undefined;
  const [address = '', length, ...rest] = value.split('/');
  if (length === undefined || rest.length > 0) return 'is not address/prefix-length';
  return ipv4Problem(address) ?? 'has a prefix length that is not 0-32';
});

/** A network address in CIDR form: host bits zero, as `ip route` and a subnet need (192.0.2.0/24, not 192.0.2.7/24). */
export const ipv4Network = ipv4Cidr.superRefine((value, ctx) => {
  const cidr = parseCidr(value);
  if (cidr !== undefined && !hasNoHostBits(cidr)) {
    ctx.addIssue({ code: 'custom', message: `must be a network address: host bits must be zero (${formatNetwork(networkOf(cidr.address, cidr.prefixLength))})` });
  }
});

/** A subnet the cluster's machines are on: a network address, neither 0.0.0.0/0 nor a range no machine is in. */
export const ipv4Subnet = ipv4Network.superRefine((value, ctx) => {
  const cidr = parseCidr(value);
  const why = cidr !== undefined && hasNoHostBits(cidr) ? subnetProblem(networkOf(cidr.address, cidr.prefixLength)) : undefined;
  if (why !== undefined) ctx.addIssue({ code: 'custom', message: `must be a subnet of the cluster; ${JSON.stringify(value)} ${why}` });
});

/** What SSH connects to: a canonical IPv4 address or an RFC 1123 host name. */
export const hostAddress = grammar('an IPv4 address or a host name', hostAddressProblem);

const interfacePattern = /^[A-Za-z0-9_.-]{1,15}$/;

/**
 * Network interface names: at most 15 bytes, not `.` or `..`, and neither `:` (Linux refuses it in a
 * device name; `eth0:1` is an address label) nor `@` (`ip` prints a link as `name@parent`, and
 * keepalived.conf reads a leading `@` as a condition), so a name is one plain word everywhere it goes.
 * Nor `all` or `default`: they name the sysctl trees net.ipv4.conf.all and .default (every
 * interface, and interfaces yet to come), and the kernel refuses a device so named.
 */
export const interfaceName = z
  .string()
  .regex(interfacePattern, 'must be a network interface name (1-15 of A-Z a-z 0-9 _ . -)')
  .refine((value) => value !== '.' && value !== '..', { message: 'must be a network interface name' })
  .refine((value) => value !== 'all' && value !== 'default', {
    message: 'must be a network interface name, not all or default: those are the sysctl settings of every interface (net.ipv4.conf.all, net.ipv4.conf.default), and no device can be so named',
  });

/** A check that only speaks once the name is a well-formed interface name, so a bad one gets one message. */
const ofWellFormed = (test: (value: string) => boolean) => (value: string) => !interfacePattern.test(value) || test(value);

/**
 * An interface that carries traffic to other hosts, as the inventory and role variables name one
 * (a VIP's, VRRP's, the LAN's, the sync daemon's): not the loopback `lo`, which reaches no other
 * host, and not starting with `-`, which a program's command line would read as an option.
 */
export const networkInterfaceName = interfaceName
  .refine(ofWellFormed((value) => value !== 'lo'), { message: 'must not be lo: the loopback reaches no other host (name the interface on the LAN, such as eth0)' })
  .refine(ofWellFormed((value) => !value.startsWith('-')), { message: 'must be a network interface name not starting with - (it would read as an option)' });

/**
 * A device that carries VIPs labelled `<device>:<the VIP in hex>` (vip-label.ts): the kernel keeps a
 * label in 15 bytes, so the name leaves room for `:` and a digit (`ip addr add` and keepalived -t
 * refuse a longer label).
 */
export const vipInterfaceName = networkInterfaceName.refine(ofWellFormed((value) => value.length <= 13), {
  message: 'must leave room for the VIP labels <interface>:<the VIP in hex> (15 characters at most): an interface name of at most 13 characters',
});

/** An interface label as `ip addr ... label` takes it: the device name, a colon and a suffix. */
export const addressLabel = z.string().regex(/^[A-Za-z0-9_.-]{1,15}(:[A-Za-z0-9_]{1,15})?$/, 'must be a label such as eth0:1 or lo:0');

export const sysctlName = z
  .string()
  .regex(/^[a-z0-9_]+([./][A-Za-z0-9_:@-]+)+$/, 'must be a sysctl name such as net.ipv4.ip_forward');

export const sysctlValue = z
  .union([z.number(), z.string().regex(/^[A-Za-z0-9 \t._:-]*$/, 'must be a plain sysctl value')])
  .transform((value) => String(value));

export const absolutePath = z
  .string()
  .regex(/^\/[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/, 'must be an absolute path (and no control character)')
  .refine((value) => !value.split('/').includes('..'), { message: 'must not contain ..' })
  // One path, one spelling: the rules that tell what a file is (a file sh sources under
  // /etc/default/, a unit under /etc/systemd/) and which two tasks declare the same file compare
  // the path as written, so /etc//default/site would pass as a plain text file whose values reach
  // sh unescaped.
  .refine((value) => !value.slice(1).split('/').slice(0, -1).includes('') && !value.split('/').includes('.'), {
    message: 'must be written in one form: no empty segment (//) and no . segment',
  })
  // Linux's limits (NAME_MAX, PATH_MAX with its NUL): a longer name passes every check here and
  // fails only on the host, in the middle of an apply, as "File name too long".
  .superRefine((value, ctx) => {
    const bytes = Buffer.byteLength(value);
    const longest = Math.max(...value.split('/').map((part) => Buffer.byteLength(part)));
    if (bytes > 4095) ctx.addIssue({ code: 'custom', message: `must be at most 4095 bytes long, as Linux takes a path (PATH_MAX); this one is ${bytes}` });
    else if (longest > 255) ctx.addIssue({ code: 'custom', message: `must name each folder and file in at most 255 bytes, as Linux does (NAME_MAX); one here is ${longest}` });
  });

// /proc and /sys hold the kernel's state and /dev its devices: a file written there (a temp file
// renamed over the path) fails on the host in the middle of an apply, or stops it at the read (a
// device node is no regular file). A kernel parameter is a sysctl task.
const KERNEL_FOLDERS = ['/proc', '/sys', '/dev'];

/** What a written file's name gets while it is written (file-state.ts): the rename makes it whole. */
const TEMP_SUFFIX = '.lvsprov-tmp';

/** A path lvsprov writes a file at: absolute, in one form, not in a kernel folder, and room for its temp name. */
export const writtenFilePath = absolutePath.superRefine((value, ctx) => {
  const folder = KERNEL_FOLDERS.find((root) => value === root || value.startsWith(`${root}/`));
  if (folder !== undefined) ctx.addIssue({ code: 'custom', message: `must not be in ${folder}, which holds the kernel's ${folder === '/dev' ? 'devices' : 'state'}, not files (a kernel parameter is a sysctl task)` });
  const name = Buffer.byteLength(value.slice(value.lastIndexOf('/') + 1));
  if (name <= 255 && name + TEMP_SUFFIX.length > 255) {
    ctx.addIssue({ code: 'custom', message: `must name its file in at most ${255 - TEMP_SUFFIX.length} bytes: it is written as NAME${TEMP_SUFFIX} and renamed, and Linux allows a name 255 (NAME_MAX); this one is ${name}` });
  }
});

export const fileMode = z.union([z.number(), z.string()]).transform((value, ctx) => {
  // YAML 1.2 reads 0644 as the decimal number 644, so the digits as written are the octal mode.
  const digits = String(value);
  if (!/^0?[0-7]{3,4}$/.test(digits)) {
    ctx.addIssue({ code: 'custom', message: 'must be an octal file mode such as 0644' });
    return z.NEVER;
  }
  const mode = Number.parseInt(digits, 8);
  // lvsprov writes pages, configs and scripts that root reads, sources or runs: a setuid or setgid
  // file would run as its owner for anyone, and a file anyone may write would let any local user
  // put lines into what root reads next.
  if ((mode & 0o6000) !== 0) {
    ctx.addIssue({ code: 'custom', message: `${digits} sets the setuid or setgid bit, which no file lvsprov writes needs (a script is 0755)` });
    return z.NEVER;
  }
  if ((mode & 0o002) !== 0) {
    ctx.addIssue({ code: 'custom', message: `${digits} lets every local user write the file, which root then reads or runs (0644 or 0755)` });
    return z.NEVER;
  }
  return digits.replace(/^0(?=\d{3}$)/, '');
});

export const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]*$/, 'must be a package name');
// systemd.unit(5): "The total length of the unit name including the suffix must not exceed 255
// characters"; lvsprov's own files named after a service are longer still: the unit it writes,
// NAME.service, goes through NAME.service.lvsprov-tmp (20 more), which Linux's NAME_MAX (255)
// must hold, or the write fails on the host in the middle of an apply.
export const SERVICE_NAME_MAX = 255 - '.service.lvsprov-tmp'.length;
export const serviceName = z
  .string()
  .regex(/^[A-Za-z0-9_.@-]+$/, 'must be a service name')
  .max(SERVICE_NAME_MAX, {
    error: (issue) => `must be a service name of at most ${SERVICE_NAME_MAX} characters (its unit file, written through NAME.service.lvsprov-tmp, must fit the 255 Linux allows a file name); this one has ${String(issue.input).length}`,
  });
// `nginx.service` is how systemctl and its users name the unit `nginx`: the suffix is taken as the
// unit's own, so it is neither added twice (a unit file lvsprov writes) nor looked for as an init
// script `/etc/init.d/nginx.service`, and both spellings are one service.
export const serviceUnitName = serviceName.transform((value) => value.replace(/\.service$/, ''));
export const moduleName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a kernel module name');
