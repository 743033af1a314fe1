import { pollUntil } from '../../shell/poll.js';
import { command, quote } from '../../shell/quote.js';
import { realServerName, selector, serverRef, serviceName, type RealServer, type Table, type VirtualService } from '../ipvs/model.js';
import { planTable } from '../ipvs/plan.js';
import { realServerRule, serviceRule } from '../ipvs/rules-format.js';
import { quiesceCommand } from '../ipvs/quiesce-command.js';
import { holdNewConnections } from '../ipvs/scheduler-swap.js';
import type { IpvsSpec } from '../ipvs/schema.js';
import { RUNLEVEL_LINK_DIRS, updateRcDEnableCommands } from '../sysv-links.js';
import type { Change } from '../types.js';
import { configShape, keepalivedConfig } from './config-text.js';
import { configWeights, weightKey } from './config-weights.js';
import { daemonCommand, notRunning, untilRunning } from './daemon.js';
import { describeSwitches, forwardingSwitches, pinsBefore, switchChanges, unpinsAfter } from './forwarding-switch.js';
import { leaveChange, movedVipPeers } from './leave.js';
import { liveInstances, vipAddresses } from './live-instances.js';
import { droppedPeers } from './peers.js';
import { keepalivedAlive, type KeepalivedFacts } from './probe.js';
import type { KeepalivedSpec, KeepalivedVirtualServer } from './schema.js';
import { expectedService, wantedTable } from './table.js';
import { arrivingVips, servicesFirst } from './arriving-vips.js';
import { bridgeAfter, bridgeBefore } from './vip-bridge.js';
import { reloadCommand, testedWriteCommands, writeConfigCommands } from './write-config.js';

// From what a director's keepalived holds to what the spec says, in the zero-downtime order:
// a leaving real server first goes to weight 0 in the config (reload; the engine then drains it),
// and only a second config, in the withdraw wave, leaves it out. Every config is tested with
// `keepalived -t -f` on the host before it replaces the old one; a refused config fails the host
// and leaves the old file and the running daemon as they were. Once keepalived runs the config
// already, the live table is compared with what it should hold, and hand-made drift is repaired.

const RESOURCE = 'keepalived';

/** Shell that waits up to 10 s for the live table to hold `rule` (a whole `ipvsadm -S -n` line), so the drain starts from weight 0. */
function waitForRule(rule: string): string {
  return `if ${keepalivedAlive}; then ${pollUntil(`ipvsadm -S -n 2>/dev/null | grep -qxF -e ${quote(rule)}`, 10)}; fi`;
}

/**
 * The services whose scheduler the reload changes. keepalived edits such a service (2.2.7's
 * clear_diff_services: IP_VS_SO_SET_EDIT), and the kernel's swap refuses a new connection that
 * arrives in its grace period, as a bare `ipvsadm -E` does: the reload runs under the same hold.
 */
function schedulerSwaps(spec: KeepalivedSpec, facts: KeepalivedFacts): VirtualService[] {
  if (!facts.running) return [];
  return spec.virtual_servers.map(expectedService).filter((wanted) => {
    const live = facts.table.find((service) => serviceName(service) === serviceName(wanted));
    return live !== undefined && live.scheduler !== wanted.scheduler;
  });
}

/**
 * The config written and reloaded; where it swaps schedulers, the reload runs under the
 * new-connection hold until the live table shows them. The write and its `keepalived -t` come
 * first, outside the hold: a SYN it drops waits for the client's retransmission (1 s, then 3 s),
 * so the hold spans only the moment keepalived edits the services.
 */
function reloadCommands(path: string, text: string, swaps: readonly VirtualService[]): string[] {
  if (swaps.length === 0) return writeConfigCommands(path, text);
  return [...testedWriteCommands(path, text), holdNewConnections(swaps, [reloadCommand, ...swaps.map((service) => waitForRule(serviceRule(service)))].join(' &&\n'))];
}

/** Live services and real servers keepalived held that the spec drops (only where keepalived has a config). */
interface Leaving {
  readonly service: VirtualService;
  readonly servers: RealServer[];
  /** The whole service leaves, not only some of its real servers. */
  readonly whole: boolean;
}

function leaving(spec: KeepalivedSpec, facts: KeepalivedFacts): Leaving[] {
  if (!facts.file.exists) return [];
  const wanted = new Map(spec.virtual_servers.map((server) => [serviceName(expectedService(server)), server]));
  return facts.table.flatMap((service): Leaving[] => {
    const server = wanted.get(serviceName(service));
    if (!server) return [{ service, servers: [...service.realServers], whole: true }];
    const names = new Set(server.real_servers.map((real) => realServerName({ ...real, forwarding: server.forwarding, options: [] })));
    const sorry = (real: RealServer): boolean => real.address === server.sorry_server?.address && real.port === server.sorry_server.port;
    const gone = service.realServers.filter((real) => !names.has(realServerName(real)) && !sorry(real));
    return gone.length > 0 ? [{ service, servers: gone, whole: false }] : [];
  });
}

/**
 * A live service as a keepalived virtual server, for the quiesce config of a service that leaves.
 * keepalived -t refuses a virtual server whose weights sum to 0 (its quorum is at least 1, and a
 * quorum above the total weight is a config error), so the config cannot quiesce a whole service:
 * `quiesceLeavingServices` sets its real servers to 0 in the kernel. Their weights here are the
 * ones the running config gives them (`running`, see config-weights.ts): keepalived's reload then
 * finds nothing to change and leaves the kernel's weights alone, whether it lands before or after
 * that ipvsadm -e. Written with the kernel's weight instead (an operator's ipvsadm -e), a reload
 * landing after it would set that weight again and the leaving service would take new connections
 * during its drain. keepalived runs no check on them (the config gives none) and so never changes
 * those weights before the next config drops the service. A server the running config does not
 * name keeps its live weight; where every weight would be 0, all are written at 1.
 */
function fromLive(service: VirtualService, running: ReadonlyMap<string, number>): KeepalivedVirtualServer {
  const forwarding = service.realServers[0]?.forwarding ?? 'dr';
  const head = {
    protocol: service.protocol === 'fwmark' ? 'fwmark' : service.protocol === 'udp' ? 'udp' : 'tcp',
    ...(service.protocol === 'fwmark' ? { fwmark: service.fwmark } : { address: service.address }),
    port: service.port,
  } as const;
  const weights = service.realServers.map((real) => running.get(weightKey(head, real)) ?? real.weight);
  const idle = weights.every((weight) => weight === 0);
  return {
    ...head,
    scheduler: service.scheduler as KeepalivedVirtualServer['scheduler'],
    forwarding,
    ...(service.persistence ? { persistence: { timeout: service.persistence.timeout, ...(service.persistence.netmask !== '255.255.255.255' ? { netmask: service.persistence.netmask } : {}) } } : {}),
    real_servers: service.realServers.map((real, index) => ({ address: real.address, port: real.port, weight: idle ? 1 : (weights[index] ?? 1) })),
    inhibit_on_failure: false,
  };
}

/**
 * The spec's instances, each with the VIPs the running config gives it that no instance of the
 * spec holds: a VIP dropped with its service stays on the director through the drain of that
 * service's connections (their packets come to the VIP), as an address task's VIP does until the
 * withdraw wave, and goes with the config written there. A VIP that moves to another instance is
 * that instance's at once (one VIP in two instances would be added twice), and so is one that
 * directors elsewhere take in this run (`elsewhere`, engine/vrrp-moves.ts).
 */
function keptLeavingVips(spec: KeepalivedSpec, running: string, elsewhere: ReadonlyMap<string, readonly string[]>): KeepalivedSpec['instances'] {
  const held = new Set(vipAddresses(spec.instances));
  const live = new Map(liveInstances(running).map((instance) => [instance.name, instance]));
  return spec.instances.map((instance) => {
    const leaving = (live.get(instance.name)?.vips ?? []).filter((vip) => !held.has(vip.address) && !elsewhere.has(vip.address));
    return leaving.length > 0 ? { ...instance, vips: [...instance.vips, ...leaving] } : instance;
  });
}

/** What the summary of the first config written says of the running config's VIPs that `elsewhere` takes: '' for none. */
function goneElsewhere(spec: KeepalivedSpec, running: string, elsewhere: ReadonlyMap<string, readonly string[]>): string {
  if (elsewhere.size === 0) return '';
  const held = new Set(vipAddresses(spec.instances));
  const moved = vipAddresses(liveInstances(running)).filter((address) => !held.has(address) && elsewhere.has(address));
  return moved.map((address) => `; ${address} goes at once (${(elsewhere.get(address) ?? []).join(', ')} take it)`).join('');
}

/** The spec with every leaving real server (and service) back in, at weight 0; whole services as `running` weighs them; VIPs leaving with them kept. */
function quiesced(spec: KeepalivedSpec, gone: readonly Leaving[], running: string, elsewhere: ReadonlyMap<string, readonly string[]>): KeepalivedSpec {
  const servers = spec.virtual_servers.map((server) => {
    const entry = gone.find((item) => !item.whole && serviceName(item.service) === serviceName(expectedService(server)));
    if (!entry) return server;
    return { ...server, real_servers: [...server.real_servers, ...entry.servers.map((real) => ({ address: real.address, port: real.port, weight: 0 }))] };
  });
  const weights = configWeights(running);
  return { ...spec, instances: keptLeavingVips(spec, running, elsewhere), virtual_servers: [...servers, ...gone.filter((item) => item.whole).map((item) => fromLive(item.service, weights))] };
}

/**
 * A leaving server as the quiesce config's reload leaves it in the kernel, at weight 0: keepalived's
 * lvs_method is the virtual server's, so a server leaving a service that stays takes the method
 * the spec gives that service (a forwarding switch moves the leaving servers too; the kernel keeps
 * each established connection's own), and one of a wholly leaving service keeps the live method
 * fromLive writes. Waited for as its rule, it must be the rule keepalived makes, or the wait runs
 * to its end.
 */
function quiescedServer(spec: KeepalivedSpec, item: Leaving, server: RealServer): RealServer {
  const stays = item.whole ? undefined : spec.virtual_servers.find((candidate) => serviceName(expectedService(candidate)) === serviceName(item.service));
  const forwarding = stays ? stays.forwarding : (item.service.realServers[0]?.forwarding ?? server.forwarding);
  return { ...server, weight: 0, ...(forwarding !== server.forwarding ? { forwarding, options: [] } : {}) };
}

/** After the quiesce config's reload: every real server of a wholly leaving service to weight 0 in the kernel (see fromLive). */
function quiesceLeavingServices(gone: readonly Leaving[]): string[] {
  const commands = gone
    .filter((item) => item.whole)
    .flatMap((item) => item.servers.map((server) => quiesceCommand(item.service, server)));
  return commands.length > 0 ? [`if ${keepalivedAlive}; then ${commands.join(' && ')}; fi`] : [];
}

/** A no-op change in balance that carries one leaving server for the engine to drain. */
export function drainOnly(service: VirtualService, server: RealServer): Change {
  return { resource: RESOURCE, summary: `drain ${realServerName(server)} of ${serviceName(service)}`, commands: [], phase: 'balance', leaving: serverRef(service, server) };
}

/** `elsewhere`: the VIPs other directors of the run take (HostContext.handingOver); the first config written lets them go. */
export function configChanges(spec: KeepalivedSpec, facts: KeepalivedFacts, elsewhere: ReadonlyMap<string, readonly string[]> = new Map()): Change[] {
  const text = keepalivedConfig(spec);
  if (facts.file.exists && facts.file.content === text) return [];
  // Peers that must have stopped or left first: those the config drops, and those of a group left for another with its VIPs.
  const waitedFor = [...new Set([...droppedPeers(spec, facts.file.exists ? facts.file.content : undefined), ...movedVipPeers(spec, facts)])];
  const peers = waitedFor.length > 0 ? { vrrpPeers: waitedFor } : {};
  const leave = leaveChange(spec, facts);
  // Stopped to leave its last group, it holds no table to quiesce or swap: it starts on the new config.
  const running = facts.running && leave?.stops !== true;
  const gone = running ? leaving(spec, facts) : [];
  const changes: Change[] = [];
  let before = facts.file.content;
  if (leave !== undefined) {
    changes.push(leave.change);
    if (!leave.stops) before = leave.change.diff?.after ?? before;
    if (before === text) return changes;
  }
  // Every leaving server is drained, also one already at weight 0 (an earlier apply or an
  // operator quiesced it: its established connections go on until the config drops it). Only
  // those still weighted need the quiesce config first.
  const refs = gone.flatMap((item) => item.servers.map((server) => ({ item, server })));
  const weighted = refs.filter(({ server }) => server.weight > 0);
  // The first config written carries the new schedulers and forwarding methods, in balance: with
  // servers leaving, a config before the one without them, even where none needs its weight 0.
  let swaps = schedulerSwaps(spec, { ...facts, running });
  const switches = running ? forwardingSwitches(spec, facts) : [];
  // A VIP the config drops while a service it carried stays (a fwmark service's VIP renumbered:
  // the marks move, the service does not) carries that service's connections made through it
  // until it leaves: it stays through the drain, as a VIP leaving with its service does.
  const vipsLeave = running && keptLeavingVips(spec, before ?? '', elsewhere).some((instance, index) => instance.vips.length !== spec.instances[index]?.vips.length);
  // The config without them waits for the drain of what leaves.
  const afterDrain = refs.length > 0 || vipsLeave;
  // Where every leaving server is at weight 0 already, the config with them kept still carries
  // the run's other edits (servers added, weights, VIPs): in balance, not after the drain.
  const quietSpec = afterDrain ? quiesced(spec, gone, before ?? '', elsewhere) : undefined;
  const quiet = quietSpec ? keepalivedConfig(quietSpec) : undefined;
  const movedAway = running ? goneElsewhere(spec, before ?? '', elsewhere) : '';
  const staged = quiet !== undefined && (weighted.length > 0 || switches.length > 0 || configShape(quiet) !== configShape(before ?? ''));
  // The first config written in balance that brings a VIP with health-checked services comes
  // after one with the services alone (arriving-vips.ts); not beside a forwarding switch, whose
  // pins must come before the reload that switches.
  let arriving = running && switches.length === 0 ? arrivingVips(spec, before ?? '') : [];
  const servicesAhead = (stage: KeepalivedSpec): void => {
    const ahead = arriving.length > 0 ? servicesFirst(stage, arriving, before ?? '') : undefined;
    arriving = [];
    if (!ahead) return;
    const vips = ahead.vips.join(', ');
    const early = ahead.alone && swaps.length === 0;
    changes.push({
      resource: RESOURCE,
      summary: `update ${spec.path} with the services of ${vips} first (keepalived -t, then reload); ${ahead.vips.length > 1 ? 'the VIPs come' : 'the VIP comes'} ${early ? 'in balance' : 'once a real server of each is in the table'}`,
      diff: { kind: 'file', before, after: ahead.text },
      commands: [...reloadCommands(spec.path, ahead.text, swaps), ...ahead.wait],
      phase: early ? 'prepare' : 'balance',
      ...peers,
    });
    before = ahead.text;
    swaps = [];
  };
  if (quietSpec !== undefined && staged) {
    servicesAhead(quietSpec);
    const switching = switches.length > 0 ? `switch ${describeSwitches(switches)}` : '';
    const kept = refs.length > 0 ? 'the servers that leave kept at weight 0' : 'the VIPs that leave kept';
    changes.push({
      resource: RESOURCE,
      summary:
        weighted.length > 0
          ? `quiesce ${weighted.map(({ server }) => realServerName(server)).join(', ')}${switching ? ` and ${switching}` : ''} in ${spec.path} (weight 0, reload, then drain)${movedAway}`
          : switching
            ? `${switching} in ${spec.path} (keepalived -t, then reload); ${refs.length > 0 ? 'the servers' : 'the VIPs'} that leave go in withdraw`
            : `update ${spec.path} with ${kept} (keepalived -t, then reload); they go in withdraw${movedAway}`,
      diff: { kind: 'file', before, after: quiet },
      commands: [...pinsBefore(switches), ...reloadCommands(spec.path, quiet, swaps), ...quiesceLeavingServices(gone), ...weighted.map(({ item, server }) => waitForRule(realServerRule(item.service, quiescedServer(spec, item, server))))],
      phase: 'balance',
      ...peers,
      ...(weighted[0] ? { leaving: serverRef(weighted[0].item.service, weighted[0].server) } : {}),
    });
    changes.push(...switchChanges(switches));
    before = quiet;
    swaps = [];
  }
  // The engine drains every leaving server it finds on a change; the others ride on no-op changes.
  for (const { item, server } of refs.filter((ref) => ref !== weighted[0])) changes.push(drainOnly(item.service, server));
  // Without servers or VIPs leaving, the config itself switches, in balance.
  const switchesHere = afterDrain ? [] : switches;
  if (!afterDrain) servicesAhead(spec);
  changes.push({
    resource: RESOURCE,
    // A stopped keepalived (a fresh director, or one stopped to leave its last group) is not
    // reloaded: its start reads the file.
    summary: `${facts.file.exists ? 'update' : 'create'} ${spec.path}${switchesHere.length > 0 ? `, switching ${describeSwitches(switchesHere)}` : ''} (keepalived -t, then ${running ? 'reload' : 'start'})${afterDrain ? '' : movedAway}`,
    diff: { kind: 'file', before, after: text },
    commands: [...pinsBefore(switchesHere), ...reloadCommands(spec.path, text, swaps)],
    phase: afterDrain ? 'withdraw' : 'balance',
    ...peers,
  });
  changes.push(...switchChanges(switchesHere), ...unpinsAfter(switches));
  return changes;
}

const startCommand = (facts: KeepalivedFacts): string => daemonCommand(facts.manager, 'start');

/** Instances that all start as BACKUP: a keepalived that should not win the first election anywhere. */
const backupOnly = (spec: KeepalivedSpec): boolean => spec.instances.length > 0 && spec.instances.every((instance) => instance.state === 'BACKUP');

/** `peers`: the VRRP peers whose host must not have stopped before this start (leave.ts, movedVipPeers). */
export function daemonChanges(spec: KeepalivedSpec, facts: KeepalivedFacts, peers: readonly string[] = []): Change[] {
  const changes: Change[] = [];
  if (facts.enabled === false || (facts.enabled === null && facts.manager === 'sysv')) {
    const commands =
      facts.manager === 'systemd'
        ? [command('systemctl', 'enable', 'keepalived')]
        : facts.enabler === 'chkconfig'
          ? [command('chkconfig', '--add', 'keepalived'), command('chkconfig', 'keepalived', 'on')]
          : updateRcDEnableCommands(RUNLEVEL_LINK_DIRS, 'keepalived');
    changes.push({ resource: RESOURCE, summary: 'enable keepalived at boot', diff: { kind: 'value', before: 'disabled', after: 'enabled' }, commands });
  }
  if (!facts.running) {
    const bridge = bridgeBefore(spec);
    const undo = bridge.length > 0 ? 'ka_unbridge; ' : '';
    changes.push({
      resource: RESOURCE,
      summary: 'start keepalived',
      diff: { kind: 'value', before: 'stopped', after: 'running' },
      commands: [
        ...bridge,
        bridge.length > 0 ? `${startCommand(facts)} || { ka_unbridge; false; }` : startCommand(facts),
        untilRunning,
        `${keepalivedAlive} || { ${undo}printf '%s\\n' ${notRunning} >&2; false; }`,
        ...bridgeAfter(spec),
      ],
      // A backup starts once the masters of the run did (and, where they bridge their VIPs, hold
      // them again): started alongside, it could win a first election the master is still
      // waiting out, and take the VIPs away and back.
      phase: backupOnly(spec) ? 'withdraw' : 'balance',
      ...(peers.length > 0 ? { vrrpPeers: peers } : {}),
    });
  }
  return changes;
}

/** Drift keepalived does not repair itself: the live table against what it should hold now. */
export function driftChanges(spec: KeepalivedSpec, facts: KeepalivedFacts): Change[] {
  if (!facts.running || facts.ipvs.state !== 'ok' || facts.file.content !== keepalivedConfig(spec)) return [];
  const wanted = wantedTable(spec, facts.table, new Set(facts.down));
  const { changes } = planTable(asIpvsSpec(wanted), facts.table);
  return changes.map((change) => ({ ...change, summary: `repair drift: ${change.summary}` }));
}

/**
 * keepalived's first start where the kernel already holds some of its virtual servers (lvsprov's
 * ipvs task made them, and lvs.ha, a health check or a sorry server now hands them to keepalived):
 * its checker adopts each as it is (2.2.7 takes an existing service or real server as added,
 * EEXIST), keeping the service's scheduler and persistence, each existing real server's weight and
 * method, and every real server its config does not name, which then keeps its share of new
 * connections. So what the adopted services still differ in, against the table the start leaves
 * (each as it was, with the real servers keepalived adds), is planned as the drift repair plans it,
 * in the same order: a real server that goes is quiesced and drained first. Never an add: the
 * servers keepalived adds are its own (a health-checked one only once its check passes).
 */
export function adoptionChanges(spec: KeepalivedSpec, facts: KeepalivedFacts): Change[] {
  if (facts.running || facts.ipvs.state !== 'ok' || facts.table.length === 0) return [];
  const wanted = wantedTable(spec, facts.table, new Set(facts.down));
  const pairs = wanted.flatMap((service) => {
    const live = facts.table.find((entry) => serviceName(entry) === serviceName(service));
    return live ? [{ service, live }] : [];
  });
  if (pairs.length === 0) return [];
  const started = pairs.map(({ service, live }) => ({
    ...live,
    realServers: [...live.realServers, ...service.realServers.filter((real) => !live.realServers.some((there) => realServerName(there) === realServerName(real)))],
  }));
  const { changes } = planTable(asIpvsSpec(pairs.map(({ service }) => service)), started);
  return changes.map((change) => ({ ...change, summary: `once keepalived adopts it: ${change.summary}` }));
}

/** The table after the plan: what keepalived should hold, the servers down by health check left as they are. */
export function predictedTable(spec: KeepalivedSpec, facts: KeepalivedFacts): Table {
  return wantedTable(spec, facts.table, new Set(facts.down));
}

function asIpvsSpec(table: readonly VirtualService[]): IpvsSpec {
  return {
    save_file: 'auto',
    purge: false,
    services: table.map((service) => ({
      protocol: service.protocol === 'sctp' ? 'tcp' : service.protocol,
      ...(service.protocol === 'fwmark' ? { fwmark: service.fwmark } : { address: service.address, port: service.port }),
      scheduler: service.scheduler as IpvsSpec['services'][number]['scheduler'],
      ...(service.persistence ? { persistence: { timeout: service.persistence.timeout, netmask: service.persistence.netmask } } : {}),
      state: 'present' as const,
      real_servers: service.realServers.map((real) => ({ address: real.address, port: real.port, forwarding: real.forwarding, weight: real.weight })),
    })),
  };
}
