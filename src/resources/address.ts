import { z } from 'zod';
import { command, quote } from '../shell/quote.js';
import { addressLabel, interfaceName, ipv4 } from '../config/values.js';
import { throwIfToolMissing, withTool } from './missing-tool.js';
import { DAD_SECONDS, dadCheck } from './arp-dad.js';
import { IPV4_ADDRESSES_PROBE, parseIpv4Addresses } from './ipv4-addresses.js';
import type { Change, ProbeOutput, ResourceType } from './types.js';

// One IPv4 address on one device: the VIP as a /32 on lo (label lo:0) for DR real servers, on
// eth0 (label eth0:c6336432, the VIP in hex) for a director, on tunl0 for TUN real servers. The facts are every IPv4
// address of the device, so several address tasks on one device share a single read. A missing
// device is a fact, not an error: tunl0 only appears once an earlier task has loaded ipip.

export const addressSchema = z
  .object({
    address: ipv4,
    prefix: z.number().int().min(1).max(32).default(32),
    device: interfaceName,
    // The kernel keeps labels in an interface-name-sized field: 15 bytes.
    label: addressLabel.max(15).optional(),
    state: z.enum(['present', 'absent']).default('present'),
    /** Also restore the address at boot: see src/config/boot-tasks.ts. */
    at_boot: z.boolean().optional(),
    /**
     * A director's VIP: once added, announce it with gratuitous ARP in the balance wave, when the
     * director's services are in place (never on a real server, which must not answer for it).
     */
    announce: z.boolean().optional(),
    /**
     * A label is the name an address goes by (lo:0), not what it does, and the kernel cannot change
     * it in place: relabelling is a delete and an add, and packets to the address in between are
     * dropped. With keep_label an address already on the device keeps the label it has, and a new
     * one takes `label`, or the first free `device:N` when another address goes by that label.
     */
    keep_label: z.boolean().optional(),
  })
  .strict()
  .refine((spec) => spec.label === undefined || spec.label === spec.device || spec.label.startsWith(`${spec.device}:`), {
    // The kernel takes any label (lo:3 on eth0 is accepted), but operators and ifconfig-era tools
    // read `dev:N` as an alias of dev, so a label naming another device would mislead them.
    message: 'label must be the device name or start with it and a colon, such as lo:0',
    path: ['label'],
  });

export type AddressSpec = z.output<typeof addressSchema>;

/** The ownership id of an address on a device, as the manifest records it. */
export const ownedAddressId = (address: string, device: string): string => `address ${address} on ${device}`;

export interface AddressEntry {
  readonly address: string;
  readonly prefix: number;
  /** The kernel reports the device name as the label of an address added without one. */
  readonly label: string;
}

export interface AddressFacts {
  readonly deviceExists: boolean;
  readonly addresses: readonly AddressEntry[];
  /**
   * For a director's VIP (announce) the device does not hold yet: the MAC addresses that answered
   * a duplicate address probe for it on the device (empty: nobody did, or arping is missing).
   */
  readonly claimedBy?: readonly string[];
}

const NO_DEVICE = 'no-device';
const CLAIMS = 'lvsprov-arp-claims';

function render(entry: AddressEntry): string {
  return `${entry.address}/${entry.prefix} label ${entry.label}`;
}

/** The entry the task wants on the device, given what the device holds now. */
function wanted(spec: AddressSpec, facts: AddressFacts): AddressEntry {
  const label = spec.label ?? spec.device;
  if (spec.keep_label !== true) return { address: spec.address, prefix: spec.prefix, label };
  const present = facts.addresses.find((entry) => entry.address === spec.address && entry.prefix === spec.prefix);
  if (present !== undefined) return present;
  const taken = new Set(facts.addresses.filter((entry) => entry.address !== spec.address).map((entry) => entry.label));
  return { address: spec.address, prefix: spec.prefix, label: taken.has(label) && label !== spec.device ? firstFreeLabel(spec.device, taken) : label };
}

/** `device:N` for the smallest N no address of the device goes by (the seeds' lo:0, lo:1 ...). */
function firstFreeLabel(device: string, taken: ReadonlySet<string>): string {
  for (let n = 0; ; n += 1) if (!taken.has(`${device}:${n}`)) return `${device}:${n}`;
}

function sameEntry(a: AddressEntry, b: AddressEntry): boolean {
  return a.address === b.address && a.prefix === b.prefix && a.label === b.label;
}

/**
 * Gratuitous ARP for a VIP a director just added. A router keeps its ARP entry for a VIP and
 * probes the MAC it has (unicast) before it asks the LAN again: a VIP that moved from another
 * director would go on reaching the old director, whose real servers are quiesced by then (new
 * connections refused), for the whole drain. (The old director lets it go in the same wave, and
 * the new one adds and announces it only once it did, see engine/vip-handover.ts; a router that
 * still has the old MAC learns of the move only from this.) The
 * announce runs in the balance wave after everything the VIP's traffic needs there (its services,
 * the address, the firewall marks: engine/host-plan.ts), at once and in the background (iputils
 * arping waits a second after each packet); two packets, as keepalived sends a burst. iputils and
 * busybox arping both take these options; without arping the VIP is reached by the next ARP.
 */
function announceChange(spec: AddressSpec): Change {
  const arping = command('arping', '-q', '-U', '-c', '2', '-I', spec.device, spec.address);
  return {
    resource: `address ${spec.address} on ${spec.device}`,
    summary: `announce ${spec.address} on ${spec.device} (gratuitous ARP)`,
    // At once: from the moment the old holder of a moving VIP lets it go, until the router's entry
    // names this director, a client's SYN reaches neither, and only its retransmission a second
    // later may land here (on the qemu lab a second's sleep here made that gap 1.7 s, and the
    // requests sent in its first 0.7 s failed; without it, 0.6-1.4 s and none). In the background: the
    // exec that carries it goes on (the quiesces) and ends without waiting for arping's pauses. In
    // a shell of its own (sh -c, exec): a subshell of the script's would keep its copy of the host lock.
    commands: [`if command -v arping >/dev/null 2>&1; then sh -c ${quote(`exec ${arping}`)} </dev/null >/dev/null 2>&1 & fi`],
    phase: 'balance',
    announces: spec.address,
    holderCheck: { summary: `ask ${spec.device}'s segment whether anyone still answers ARP for ${spec.address} (arping -D, up to ${DAD_SECONDS} s)`, command: dadCheck(spec.address, spec.device) },
  };
}

/**
 * The addresses of the device and, when the VIP is not among them, who else answers ARP for it:
 * `arping -D` (duplicate address detection: a probe from 0.0.0.0, so no host learns anything from
 * it) waits a second for an answer, and only on a read that is about to add the VIP. A director
 * dropped from the inventory keeps its VIP and answers the router beside the new one; adding it
 * here would split the clients between them (see claimsOutsideTheRun in engine/vip-claims.ts).
 * Without arping nothing is asked. The section's status is ip's.
 */
function claimProbe(spec: AddressSpec, device: string, show: string): string {
  const probe = command('arping', '-D', '-c', '1', '-w', '1', '-I', spec.device, spec.address);
  return [
    `if [ -e /sys/class/net/${device} ]; then`,
    `lvsprov_addresses=$(${show}); lvsprov_status=$?`,
    `printf '%s\\n' "$lvsprov_addresses"`,
    `case " $lvsprov_addresses" in *" inet ${spec.address}/"*) ;; *) if [ "$lvsprov_status" -eq 0 ] && command -v arping >/dev/null 2>&1; then printf '%s\\n' '${CLAIMS}'; ${probe} 2>/dev/null; fi ;; esac`,
    `[ "$lvsprov_status" -eq 0 ]`,
    `else printf '${NO_DEVICE}\\n'; fi`,
  ].join('\n');
}

/** The MACs of arping's replies (iputils: `Unicast reply from IP [MAC]  0.5ms`; busybox alike). */
function claimants(lines: readonly string[]): string[] {
  const macs = lines.flatMap((line) => {
    const match = /reply from \S+ \[([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\]/.exec(line);
    return match?.[1] ? [match[1].toLowerCase()] : [];
  });
  return [...new Set(macs)];
}

export const address: ResourceType<AddressSpec, AddressFacts> = {
  name: 'address',
  schema: addressSchema,

  // A director's VIP is read on its own (its read may ask the LAN who holds it); the other
  // addresses of a device share one read.
  key: (spec) => (spec.announce === true ? `address ${spec.device} ${spec.address}` : `address ${spec.device}`),

  // Every address of the host in one read that every device's tasks share (ipv4-addresses.ts);
  // sysfs answers "does the device exist" without parsing ip's stderr, and any other failure of
  // `ip` keeps its exit status and reaches parse as a probe error.
  probe(spec) {
    if (spec.announce !== true) return IPV4_ADDRESSES_PROBE;
    return withTool('ip', claimProbe(spec, quote(spec.device), command('ip', '-o', '-4', 'addr', 'show', 'dev', spec.device)));
  },

  // A manifest an older lvsprov wrote records each device's own read; its output parses too.
  legacyProbes: (spec) => (spec.announce === true ? [] : [withTool('ip', `if [ -e /sys/class/net/${quote(spec.device)} ]; then ${command('ip', '-o', '-4', 'addr', 'show', 'dev', spec.device)}; else printf '${NO_DEVICE}\\n'; fi`)]),

  parse(output: ProbeOutput, spec): AddressFacts {
    throwIfToolMissing(output, 'ip');
    if (output.status !== 0) throw new Error(`reading the addresses of ${spec.device} failed with status ${output.status}`);
    const all = output.stdout.split('\n');
    const marker = all.indexOf(CLAIMS);
    const lines = marker < 0 ? all : all.slice(0, marker);
    if (lines.filter((line) => line.trim() !== '').join() === NO_DEVICE) return { deviceExists: false, addresses: [] };
    const { devices, held } = parseIpv4Addresses(lines);
    const addresses = held.filter((entry) => entry.device === spec.device).map(({ address, prefix, label }) => ({ address, prefix, label }));
    return { deviceExists: devices?.has(spec.device) ?? true, addresses, ...(marker < 0 ? {} : { claimedBy: claimants(all.slice(marker + 1)) }) };
  },

  plan(spec, facts) {
    const target = wanted(spec, facts);
    const mine = facts.addresses.filter((entry) => entry.address === spec.address);
    const del = (entry: AddressEntry): string =>
      command('ip', 'addr', 'del', `${entry.address}/${entry.prefix}`, 'dev', spec.device);
    const before = mine.length === 0 ? '(absent)' : mine.map(render).join(', ');
    const resource = `address ${spec.address} on ${spec.device}`;

    if (spec.state === 'absent') {
      if (mine.length === 0) return [];
      return [{ resource, summary: `${resource}: ${before} -> (absent)`, diff: { kind: 'value', before, after: '(absent)' }, commands: mine.map(del), releases: [spec.address] }];
    }

    // The same address may be on the device twice with different prefixes; keep the right one
    // so the VIP never disappears, and remove the rest.
    const keep = mine.find((entry) => sameEntry(entry, target));
    const extra = mine.filter((entry) => entry !== keep);
    if (keep !== undefined && extra.length === 0) return [];
    const add = ['ip', 'addr', 'add', `${spec.address}/${spec.prefix}`, 'dev', spec.device];
    if (spec.label !== undefined) add.push('label', target.label);
    const change: Change = {
      resource,
      summary: `${resource}: ${before} -> ${render(target)}${facts.deviceExists ? '' : ` (${spec.device} does not exist yet)`}`,
      diff: { kind: 'value', before, after: render(target) },
      // The kernel cannot change an address's prefix or label in place: remove it, then add it.
      commands: [...extra.map(del), ...(keep === undefined ? [command(...add)] : [])],
    };
    const claim = keep === undefined && facts.claimedBy !== undefined && facts.claimedBy.length > 0 ? { claim: { address: spec.address, device: spec.device, by: facts.claimedBy } } : {};
    // A director's VIP is added in the balance wave, after the services on it: a local VIP with no
    // service behind it refuses every connection (the kernel answers the SYN with a reset), and a
    // router that asks the LAN while a VIP moves between directors may pick either holder.
    const phase = spec.announce === true ? { phase: 'balance' as const } : {};
    return [{ ...change, ...claim, ...phase }, ...(spec.announce === true && mine.length === 0 ? [announceChange(spec)] : [])];
  },

  // What the device holds next; who else answered was a fact of the read, not of the state after.
  after(spec, facts) {
    const others = facts.addresses.filter((entry) => entry.address !== spec.address);
    if (spec.state === 'absent') return { deviceExists: facts.deviceExists, addresses: others };
    return { deviceExists: true, addresses: [...others, wanted(spec, facts)] };
  },

  // An address is the same object whatever its prefix or label: those are edited in place.
  owns: (spec) => (spec.state === 'present' ? [{ id: ownedAddressId(spec.address, spec.device), spec }] : []),

  // The address a task added leaves its device, whatever prefix or label it has now; the
  // device and its other addresses stay. An address a task removes is not put back.
  reset: {
    plan: (spec, facts, context) => (spec.state === 'present' ? address.plan({ ...spec, state: 'absent' }, facts, context) : []),
    after: (spec, facts) => (spec.state === 'present' ? address.after({ ...spec, state: 'absent' }, facts) : facts),
  },
};
