import type { CompiledTask } from '../../src/config/compile.js';
import type { PlannedChange } from '../../src/engine/events.js';
import { hostReadPlan, planHost } from '../../src/engine/host-plan.js';
import { planWaves, type WavePlan } from '../../src/engine/wave-plan.js';
import { keptQuiesced } from '../../src/engine/kept-quiesced.js';
import { directsTraffic, vipHandovers, vipTakeovers } from '../../src/engine/vip-handover.js';
import type { AddressFacts } from '../../src/resources/address.js';
import { IPV4_ADDRESSES_PROBE } from '../../src/resources/ipv4-addresses.js';
import type { FileState } from '../../src/resources/file-state.js';
import type { IpvsFacts } from '../../src/resources/ipvs/probe.js';
import { renderRules } from '../../src/resources/ipvs/rules-format.js';
import { DEBIAN_SAVE_FILE, RHEL_SAVE_FILE } from '../../src/resources/ipvs/save-file.js';
import type { NftTableFacts } from '../../src/resources/nft-table.js';
import type { FwmarkSpec } from '../../src/resources/fwmark.js';
import { declaredRecords } from '../../src/ownership/records.js';
import { probeOf } from '../../src/resources/probe-of.js';
import { resourceTypes } from '../../src/resources/registry.js';
import { applyCommands } from './command-model.js';
import { isManifestProbe, manifestRead } from './manifest-read.js';

// A cluster of simulated hosts for the cross-host plan: each host's state is the facts its
// probes read (address, ipvs, fwmark), printed back as those probes print them, so the real host
// planner (planHost: planners, pruning, phases) and the real wave planner run on it. An apply
// runs every planned change through the command model (test/support/command-model.ts) and records
// the tasks as the manifest, so the next inventory is planned against what the last one made.

type Facts = unknown;

export interface SimHost {
  /** Facts by probe script; a device's addresses by `address DEVICE` (one read prints every device: factKey). */
  readonly facts: Map<string, Facts>;
  /** The tasks the host's manifest records: undefined before lvsprov's first apply. */
  recorded: readonly CompiledTask[] | undefined;
}

export type Inventory = Record<string, CompiledTask[]>;

export const compiledTask = (name: string, type: CompiledTask['type'], spec: unknown): CompiledTask => ({ name, type, spec: resourceTypes[type].schema.parse(spec) });

const file = (state: FileState | undefined): string => (state?.exists ? `F ${state.mode ?? '644'} ${Buffer.from(state.content).toString('base64')}` : 'F-');

/** Where a task's facts are kept: a device's addresses apart from the others', though one probe reads them all. */
function factKey(task: { type: string; spec: unknown }): string {
  const spec = task.spec as { device?: string; announce?: boolean };
  if (task.type === 'address' && spec.announce !== true) return `address ${spec.device ?? ''}`;
  return probeOf(resourceTypes[task.type as CompiledTask['type']], task.spec);
}

const addressLines = (device: string, state: AddressFacts): string[] =>
  state.addresses.map((entry, index) => `${index + 2}: ${device}    inet ${entry.address}/${entry.prefix} scope global ${entry.label}\\       valid_lft forever preferred_lft forever`);

/** The devices a host has (lo and eth0, and tunl0 once its addresses say so), each with its addresses, as the shared read prints them. */
function renderAddresses(host: SimHost): string {
  const devices = new Map<string, AddressFacts>([['lo', { deviceExists: true, addresses: [] }], ['eth0', { deviceExists: true, addresses: [] }]]);
  for (const [key, facts] of host.facts) if (key.startsWith('address ')) devices.set(key.slice('address '.length), facts as AddressFacts);
  const present = [...devices].filter(([, state]) => state.deviceExists);
  return [...present.map(([device]) => `lvsprov-device ${device}`), ...present.flatMap(([device, state]) => addressLines(device, state))].join('\n');
}

/** A host's MAC, made up from its name: what arping prints for a host that answers. */
const macOf = (name: string): string => `02:00:${[...Buffer.from(name.padEnd(4, '_').slice(-4))].map((byte) => byte.toString(16).padStart(2, '0')).join(':')}`;

/**
 * Who else answers ARP for `address` on `device` (arping -D, which a director's read of a VIP it
 * lacks runs: address.ts): every other host holding it on that device. A real server's VIP on lo
 * or tunl0 answers nothing (arp_ignore), so in this cluster only a director's eth0 counts.
 */
export function answeringArp(cluster: ReadonlyMap<string, SimHost>, name: string, address: string, device: string): string[] {
  return [...cluster].flatMap(([other, host]) => (other !== name && [...host.facts.values()].some((facts) => ((facts as Partial<AddressFacts>).addresses ?? []).some((entry) => entry.address === address && (entry.label.split(':')[0] ?? '') === device)) ? [macOf(other)] : []));
}

/** What the probe of `type` prints for `facts` (a host where lvsprov never ran: nothing there yet); `answering`: the MACs arping -D hears for a director's VIP. */
function render(type: string, spec: unknown, facts: Facts | undefined, answering: readonly string[] = []): string {
  if (type === 'address') {
    const { device, address, announce } = spec as { device: string; address: string; announce?: boolean };
    const state = (facts as AddressFacts | undefined) ?? { deviceExists: device !== 'tunl0', addresses: [] };
    if (!state.deviceExists) return 'no-device';
    // A director's VIP read where it lacks it asks the segment who holds it (address.ts's claim probe).
    const claims = announce === true && !state.addresses.some((entry) => entry.address === address) ? ['lvsprov-arp-claims', ...answering.map((mac) => `Unicast reply from ${address} [${mac}]  0.5ms`)] : [];
    return [...addressLines(device, state), ...claims].join('\n');
  }
  if (type === 'ipvs') {
    const state = facts as IpvsFacts | undefined;
    const rules = renderRules(state?.table ?? []).split('\n').filter((line) => line !== '').map((line) => `S ${line}`);
    return [...rules, 'I 0', 'O ID=debian', file(state?.files[RHEL_SAVE_FILE]), file(state?.files[DEBIAN_SAVE_FILE])].join('\n');
  }
  if (type === 'fwmark') {
    const state = facts as NftTableFacts | undefined;
    const { table } = spec as { table: string };
    const present = state?.state === 'present';
    const body = present ? [`table ip ${table} {`, '\tchain prerouting {', '\t\ttype filter hook prerouting priority mangle; policy accept;', ...(state.rules ?? []).map((rule) => `\t\t${rule}`), '\t}', '}'].map((line) => `N ${line}`) : [];
    return [...body, `T ${present ? 'present' : 'absent'}`, file(state?.file)].join('\n');
  }
  throw new Error(`the cluster simulation does not know ${type}`);
}

/**
 * Every host's plan for `inventory` on the cluster as it stands, and the waves they make.
 * `realServers`: real-server address -> host; `also`: changes of tasks the simulation does not
 * model (a web server's restart), put at the end of a host's plan.
 */
export function planCluster(
  cluster: Map<string, SimHost>,
  inventory: Inventory,
  { realServers = new Map(), also = {} }: { realServers?: ReadonlyMap<string, string>; also?: Record<string, PlannedChange[]> } = {},
): { plans: Map<string, PlannedChange[]>; waves: WavePlan } {
  const plans = planHosts(cluster, inventory, new Map());
  // The cross-host step the engine takes before its waves: a VIP moved between directors, each
  // old director planned again with it, and each new one with the old ones it waits for.
  const handovers = vipHandovers([...plans].map(([host, changes]) => ({ host, changes, directs: directsTraffic((inventory[host] ?? []).map((task) => task.type), changes) })));
  const takeovers = vipTakeovers(handovers);
  for (const [host, changes] of planHosts(cluster, inventory, handovers, takeovers)) if (handovers.has(host) || takeovers.has(host)) plans.set(host, changes);
  for (const [host, changes] of Object.entries(also)) plans.set(host, [...(plans.get(host) ?? []), ...changes]);
  return { plans, waves: planWaves([...plans].map(([host, changes]) => ({ host, changes, quiesced: keptQuiesced(inventory[host] ?? []) })), realServers) };
}

type VipsByHost = ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>;

function planHosts(cluster: Map<string, SimHost>, inventory: Inventory, handovers: VipsByHost, takeovers: VipsByHost = new Map()): Map<string, PlannedChange[]> {
  const plans = new Map<string, PlannedChange[]>();
  for (const [name, tasks] of Object.entries(inventory)) {
    const host = hostOf(cluster, name);
    const answer = readAnswer(cluster, name, tasks);
    const read = hostReadPlan(tasks, 'apply');
    const output = (probe: string): string => (isManifestProbe(probe) ? manifestRead(probe, host.recorded, answer) : answer(probe));
    const handingOver = handovers.get(name);
    const takingOver = takeovers.get(name);
    plans.set(name, planHost(read, new Map(read.probes.map((probe, index) => [index, { stdout: output(probe), status: 0 }])), { host: name, ...(handingOver ? { handingOver } : {}), ...(takingOver ? { takingOver } : {}) }));
  }
  return plans;
}

/** What host `name` prints for one probe of its read (but the manifest's: manifest-read.ts), with `tasks` declared. */
export function readAnswer(cluster: Map<string, SimHost>, name: string, tasks: readonly CompiledTask[]): (probe: string) => string {
  const host = hostOf(cluster, name);
  const types = typesByProbe(tasks, host.recorded);
  return (probe) => {
    const entry = types.get(probe);
    if (entry === undefined) throw new Error(`${name}: no task reads ${probe.slice(0, 60)}`);
    if (probe === IPV4_ADDRESSES_PROBE) return renderAddresses(host);
    const spec = entry.spec as { address?: string; device?: string };
    const answering = entry.type === 'address' && spec.address !== undefined ? answeringArp(cluster, name, spec.address, spec.device ?? '') : [];
    return render(entry.type, entry.spec, host.facts.get(probe), answering);
  };
}

/** Run the plans on the cluster (wave by wave; hosts do not share state) and record each host's tasks. */
export function applyCluster(cluster: Map<string, SimHost>, inventory: Inventory, plans: ReadonlyMap<string, readonly PlannedChange[]>): void {
  for (const [name, changes] of plans) {
    const host = hostOf(cluster, name);
    const tasks = inventory[name] ?? [];
    for (const change of changes) runCommands(host, name, tasks, change);
    // fwmark runs nft, outside the command model: its facts are what its planners predict.
    for (const task of [...(host.recorded ?? []), ...tasks].filter((entry) => entry.type === 'fwmark')) predictMarks(host, name, tasks, task);
    // A host left with nothing to record forgets its manifest (ownership/manifest.ts): tasks
    // that own no object (an ipvs task listing no service) record nothing either.
    host.recorded = declaredRecords(tasks).length > 0 ? tasks : undefined;
  }
}

/**
 * One change run on host `name`, as applyCluster runs it, for a look at the cluster between two
 * changes of an apply (its manifest is left as it was read).
 */
export function applyChange(cluster: Map<string, SimHost>, inventory: Inventory, name: string, change: PlannedChange): void {
  const host = hostOf(cluster, name);
  const tasks = inventory[name] ?? [];
  const task = tasksByName(host, tasks).get(change.task);
  if (task?.type === 'fwmark') runMarks(host, name, tasks, task, change.commands);
  else runCommands(host, name, tasks, change);
}

/**
 * A fwmark task's change as the host runs it (nft is outside the command model): its boot file
 * as the change writes it, then the table as `nft -f` loads that file. So the marks are what the
 * planner chose for this run (a new address left unmarked where a server of its mark was
 * withheld), not only what the task declares. Any other change of the task (the table deleted,
 * the file removed): its facts as its planners predict them.
 */
function runMarks(host: SimHost, name: string, tasks: readonly CompiledTask[], task: CompiledTask, commands: readonly string[]): void {
  const probe = probeOf(resourceTypes.fwmark, task.spec);
  const saveFile = (task.spec as FwmarkSpec).save_file;
  let facts = (host.facts.get(probe) ?? parseEmpty(host, task)) as NftTableFacts;
  let ran = false;
  for (const command of commands) {
    const word = new RegExp(`printf '%s' ('(?:[^']|'\\\\'')*') > ${saveFile.replaceAll('.', '\\.')}\\.lvsprov-tmp `).exec(command)?.[1];
    if (word !== undefined) facts = { ...facts, file: { exists: true, mode: '644', content: word.slice(1, -1).replaceAll("'\\''", "'") } };
    else if (command === `nft -f ${saveFile}`) facts = { ...facts, state: 'present', rules: facts.file.content.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('ip daddr ')) };
    else continue;
    ran = true;
  }
  if (ran) host.facts.set(probe, facts);
  else predictMarks(host, name, tasks, task);
}

/** A copy of the cluster whose facts change apart from the original's. */
export function copyCluster(cluster: ReadonlyMap<string, SimHost>): Map<string, SimHost> {
  return new Map([...cluster].map(([name, host]) => [name, { facts: new Map(host.facts), recorded: host.recorded }]));
}

const tasksByName = (host: SimHost, tasks: readonly CompiledTask[]): Map<string, CompiledTask> => new Map([...(host.recorded ?? []), ...tasks].map((task) => [task.name, task]));

/** A change's commands through the command model, on the facts of the task that planned it. */
function runCommands(host: SimHost, name: string, tasks: readonly CompiledTask[], change: PlannedChange): void {
  const task = tasksByName(host, tasks).get(change.task);
  const commands = change.commands.filter((command) => !command.includes('/var/lib/lvsprov'));
  if (task === undefined) {
    if (commands.length > 0) throw new Error(`${name}: a change of no known task: ${change.summary}`);
    return;
  }
  if (task.type === 'fwmark') return;
  const key = factKey(task);
  host.facts.set(key, applyCommands(task.type, host.facts.get(key) ?? parseEmpty(host, task), commands));
}

/** The facts of a fwmark task once the apply ran: its marks as declared, or none where no task declares any. */
function predictMarks(host: SimHost, name: string, tasks: readonly CompiledTask[], task: CompiledTask): void {
  const type = resourceTypes.fwmark;
  const probe = probeOf(type, task.spec);
  const facts = host.facts.get(probe) ?? parseEmpty(host, task);
  if (tasks.includes(task)) host.facts.set(probe, type.after(task.spec as never, facts as never, { host: name }));
  else if (!tasks.some((entry) => entry.type === 'fwmark')) host.facts.set(probe, type.reset?.after(task.spec as never, facts as never) ?? facts);
}

function parseEmpty(host: SimHost, task: CompiledTask): Facts {
  const type = resourceTypes[task.type];
  const stdout = probeOf(type, task.spec) === IPV4_ADDRESSES_PROBE ? renderAddresses(host) : render(task.type, task.spec, undefined);
  return type.parse({ stdout, status: 0 }, task.spec as never);
}

function typesByProbe(tasks: readonly CompiledTask[], recorded: readonly CompiledTask[] | undefined): Map<string, { type: string; spec: unknown }> {
  const probes = new Map<string, { type: string; spec: unknown }>();
  for (const task of [...(recorded ?? []), ...tasks]) probes.set(probeOf(resourceTypes[task.type], task.spec), { type: task.type, spec: task.spec });
  return probes;
}

function hostOf(cluster: Map<string, SimHost>, name: string): SimHost {
  let host = cluster.get(name);
  if (host === undefined) {
    host = { facts: new Map(), recorded: undefined };
    cluster.set(name, host);
  }
  return host;
}
