import { resourceTypes, type ResourceTypeName } from '../resources/registry.js';
import { ruleKey } from '../resources/arptables-save.js';
import { renderSysctlFile } from '../resources/sysctl.js';
import { DEBIAN_SAVE_FILE, RHEL_SAVE_FILE } from '../resources/ipvs/save-file.js';
import { specServiceName } from '../resources/ipvs/schema.js';
import type { AnyResourceType } from '../resources/types.js';
import { initScriptPath, unitPath } from '../resources/at-boot.js';
import { kmodFile } from '../resources/kmod.js';
import { serviceName } from '../resources/ipvs/model.js';
import type { KeepalivedSpec } from '../resources/keepalived/schema.js';
import { expectedService } from '../resources/keepalived/table.js';

// Two tasks of one host that declare one object - a file, a boot hook, a route, a module, a
// service, a link's state - with different specs never converge: each apply makes the first, then
// the second, and reports both as changes, for ever. Refused at the later task, naming the earlier
// one. The same spec twice (two roles that each need one module) is one object declared twice, and
// fine.
//
// Each type says which objects a task of it declares, each with the value the task gives it. For
// most types that is the whole object its key names. Where the key names a container of several
// objects (a device's addresses, the IPVS table, a sysctl file's parameters) it is each part: two
// tasks there may well declare different parts of it, and conflict only on a part both declare.
type Claims = ReadonlyArray<readonly [id: string, value: string]>;

const whole = (type: ResourceTypeName) => (spec: never): Claims => [[(resourceTypes[type] as AnyResourceType).key(spec), JSON.stringify(spec)]];

/**
 * A file another type writes as a whole, said the way every task of that type that writes it says
 * it: a `file` task (or a task of another type) naming the same path then conflicts with it.
 */
const savedBy = (path: string, writer: string): Claims => [[`file ${path}`, `written by ${writer}`]];

/** What a keepalived task says of an IPVS service one of its virtual servers holds. */
const HELD_BY_KEEPALIVED = JSON.stringify({ state: 'present', held_by: 'keepalived' });

const CLAIMS: Partial<Record<ResourceTypeName, (spec: never) => Claims>> = {
  file: whole('file'),
  // A boot hook's unit and init script are its own files.
  at_boot: (spec: { name: string }) => [...whole('at_boot')(spec as never), ...savedBy(unitPath(spec.name), `the boot hook ${spec.name}`), ...savedBy(initScriptPath(spec.name), `the boot hook ${spec.name}`)],
  kmod: (spec: { name: string }) => [...whole('kmod')(spec as never), ...savedBy(kmodFile(spec.name), `the module ${spec.name}`)],
  route: whole('route'),
  // keepalived also holds the IPVS service of each of its virtual servers: an ipvs task that
  // declares, removes or purges one fights it (lvsprov's keepalived puts the table back).
  keepalived: (spec: KeepalivedSpec) => [
    ...whole('keepalived')(spec as never),
    ...savedBy(spec.path, 'keepalived'),
    ...spec.virtual_servers.map((server) => [`IPVS service ${serviceName(expectedService(server))}`, HELD_BY_KEEPALIVED] as const),
  ],
  // One nftables table whole, and its save file, which holds that table alone.
  fwmark: (spec: { table: string; save_file: string }) => [...whole('fwmark')(spec as never), ...savedBy(spec.save_file, `the fwmark table ${spec.table}`)],
  allowlist: (spec: { table: string; save_file: string }) => [...whole('allowlist')(spec as never), ...savedBy(spec.save_file, `the allowlist table ${spec.table}`)],
  // One routing table's default is taken by every source route into that table.
  source_route: (spec: { table: number; via: string; state: string }) => [
    ...whole('source_route')(spec as never),
    ...(spec.state === 'present' ? [[`the default route of routing table ${spec.table}`, `via ${spec.via}`] as const] : []),
  ],
  // One kernel parameter set by two tasks (two roles writing their own sysctl.d files) flips; so
  // does one sysctl file given two sets of parameters, each task writing its own.
  // Read from the task as written, before its schema's defaults: `persist` is true unless it says
  // false, and one parameter may be written as name and value.
  sysctl: (spec: { file: string; values?: Readonly<Record<string, string>>; name?: string; value?: string; persist?: boolean }) => {
    const values = spec.values ?? (spec.name === undefined ? {} : { [spec.name]: String(spec.value) });
    return [
      ...Object.entries(values).map(([name, value]) => [`kernel parameter ${name}`, `= ${value}`] as const),
      ...(spec.persist !== false ? [[`file ${spec.file}`, JSON.stringify(renderSysctlFile(values))] as const] : []),
    ];
  },
  // What the service is made to be; its pool standing, restart triggers and package only say when
  // and after what it starts.
  service: (spec: { name: string; state: string; enabled: boolean; exec?: readonly string[] }) => [[`service ${spec.name}`, JSON.stringify([spec.state, spec.enabled, spec.exec ?? null])]],
  // A link's state and its MTU are set apart: a task that leaves the MTU alone says nothing of it.
  link: (spec: { device: string; state: string; mtu?: number }) => [
    [`the state of link ${spec.device}`, spec.state],
    ...(spec.mtu === undefined ? [] : [[`the MTU of link ${spec.device}`, String(spec.mtu)] as const]),
  ],
  // One address of a device: there or not, and the label it goes by unless the task keeps the one it has.
  address: (spec: { address: string; prefix: number; device: string; state: string; label?: string; keep_label?: boolean }) => {
    const id = `address ${spec.address}/${spec.prefix} on ${spec.device}`;
    const label: Claims = spec.state === 'present' && spec.keep_label !== true ? [[`the label of ${id}`, spec.label ?? spec.device]] : [];
    return [[id, spec.state], ...label];
  },
  // One IPVS virtual service, whole: its scheduler, persistence and real servers are set to what a task lists.
  ipvs: (spec: { services: ReadonlyArray<{ state: string }>; save_file?: string }) => [
    ...spec.services.map((service) => [`IPVS service ${specServiceName(service as never)}`, JSON.stringify(service)] as const),
    // `auto` is the distro's own file, known only on the host: either one.
    ...(spec.save_file === 'auto' || spec.save_file === undefined ? [DEBIAN_SAVE_FILE, RHEL_SAVE_FILE] : [spec.save_file]).flatMap((file) => savedBy(file, 'the IPVS table')),
  ],
  // One ARP rule, there or not; its save file holds every rule of the host.
  arptables: (spec: { rules: ReadonlyArray<Parameters<typeof ruleKey>[0]>; save_file: string; state: string }) => [
    ...spec.rules.map((rule) => [`the arptables rule ${ruleKey(rule)}`, spec.state] as const),
    ...savedBy(spec.save_file, 'the arptables rules'),
  ],
};

/**
 * A task that removes every object of a kind it does not name (ipvs with purge: true removes the
 * services it does not list): another task of the host making one of those is undone at every
 * apply just the same.
 */
interface Sweep {
  /** Whether the object a claim names is one the sweep removes. */
  readonly removes: (id: string, value: string) => boolean;
  /** How the sweeping task says it, e.g. "with purge: true". */
  readonly how: string;
  /** How to make the two agree, for the object a claim (its value) names. */
  readonly fix: (value: string) => string;
}

const SWEEPS: Partial<Record<ResourceTypeName, (spec: never) => Sweep | undefined>> = {
  ipvs: (spec: { services: ReadonlyArray<{ state: string }>; purge: boolean }) => {
    if (!spec.purge) return undefined;
    const keeps = new Set(spec.services.map((service) => `IPVS service ${specServiceName(service as never)}`));
    return { removes: (id, value) => id.startsWith('IPVS service ') && !keeps.has(id) && (JSON.parse(value) as { state: string }).state !== 'absent', how: 'with purge: true', fix: (value) => (value === HELD_BY_KEEPALIVED ? 'keepalived holds that service (its virtual_servers): drop the purge' : 'list the service in the task with purge: true as well, or drop its purge') };
  },
};

// Per frozen spec (shared by every host compiled to it): its claims, worked out once.
const claimsBySpec = new WeakMap<object, Claims>();

function claimsOf(type: ResourceTypeName, spec: object): Claims {
  let found = claimsBySpec.get(spec);
  if (found === undefined) {
    found = CLAIMS[type]?.(spec as never) ?? [];
    claimsBySpec.set(spec, found);
  }
  return found;
}

/**
 * Two tasks that undo each other: the object, the earlier task's `where`, and, when one of them
 * removes the object by a sweep, which one and how (`removedBy`).
 */
export interface Conflict<Where> {
  readonly id: string;
  readonly earlier: Where;
  readonly removedBy?: { readonly task: 'earlier' | 'this'; readonly how: string; readonly fix: string };
}

/** The objects one host's tasks declare so far, each with what `Where` says of the task that declared it first. */
export class ObjectClaims<Where> {
  private readonly claims = new Map<string, { readonly text: string; readonly where: Where }>();
  private readonly sweeps: Array<{ readonly sweep: Sweep; readonly where: Where }> = [];

  /** When `spec` declares an object an earlier task declared otherwise, or removes one, or makes one an earlier task removes. */
  claim(type: ResourceTypeName, spec: unknown, where: Where): Conflict<Where> | undefined {
    if (typeof spec !== 'object' || spec === null || CLAIMS[type] === undefined) return undefined;
    const claims = claimsOf(type, spec);
    for (const [id, text] of claims) {
      const earlier = this.claims.get(id);
      if (earlier === undefined) this.claims.set(id, { text, where });
      else if (earlier.text !== text) return { id, earlier: earlier.where };
    }
    for (const earlier of this.sweeps) {
      const removed = claims.find(([id, text]) => earlier.sweep.removes(id, text));
      if (removed) return { id: removed[0], earlier: earlier.where, removedBy: { task: 'earlier', how: earlier.sweep.how, fix: earlier.sweep.fix(removed[1]) } };
    }
    const sweep = sweepOf(type, spec);
    if (sweep === undefined) return undefined;
    for (const [id, claim] of this.claims) {
      if (sweep.removes(id, claim.text)) return { id, earlier: claim.where, removedBy: { task: 'this', how: sweep.how, fix: sweep.fix(claim.text) } };
    }
    this.sweeps.push({ sweep, where });
    return undefined;
  }
}

const sweepsBySpec = new WeakMap<object, Sweep | null>();

function sweepOf(type: ResourceTypeName, spec: object): Sweep | undefined {
  let found = sweepsBySpec.get(spec);
  if (found === undefined) {
    found = SWEEPS[type]?.(spec as never) ?? null;
    sweepsBySpec.set(spec, found);
  }
  return found ?? undefined;
}
