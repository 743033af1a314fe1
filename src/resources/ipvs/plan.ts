import { command } from '../../shell/quote.js';
import type { Change } from '../types.js';
import {
  defaultNetmask,
  realServerName,
  selector,
  serverRef,
  serviceName,
  sortTable,
  type RealServer,
  type Table,
  type VirtualService,
} from './model.js';
import { realServerOptions, realServerRule, serviceOptions, serviceRule } from './rules-format.js';
import { swapScheduler } from './scheduler-swap.js';
import { listBoundCommand } from './bound-connections.js';
import { quiesceCommand } from './quiesce-command.js';
import { switchMarks, switchPins, switchUnpin } from './forwarding-switch.js';
import { pinNextHop } from './next-hop-pin.js';
import { desiredService, specServiceName, type IpvsSpec } from './schema.js';

// The smallest set of ipvsadm edits from the current table to the one the spec asks for, and
// the table they leave behind. Services the spec does not name are left alone unless purge.

const ABSENT = '(absent)';

function ipvsadm(...words: string[]): string {
  return command('ipvsadm', ...words);
}

function describePersistence(service: VirtualService): string {
  const p = service.persistence;
  if (!p) return 'off';
  return p.netmask === defaultNetmask(service) ? `${p.timeout}s` : `${p.timeout}s per ${p.netmask}`;
}

function describeService(service: VirtualService): string {
  const persistence = service.persistence ? `, persistent ${describePersistence(service)}` : '';
  const options = service.options.length > 0 ? `, ${service.options.join(' ')}` : '';
  return `${service.scheduler}${persistence}${options}`;
}

function describeServer(server: RealServer): string {
  const options = server.options.length > 0 ? ` ${server.options.join(' ')}` : '';
  return `${server.forwarding}${options}, weight ${server.weight}`;
}

/** `name a -> b` for each attribute that differs, e.g. `weight 2 -> 4`. */
function differences(pairs: Array<[string, string, string]>): string {
  return pairs
    .filter(([, before, after]) => before !== after)
    .map(([name, before, after]) => `${name} ${before} -> ${after}`)
    .join(', ');
}

function addServer(service: VirtualService, server: RealServer): Change {
  return {
    resource: `ipvs ${serviceName(service)}`,
    summary: `add real server ${realServerName(server)} (${describeServer(server)}) to ${serviceName(service)}`,
    diff: { kind: 'value', before: ABSENT, after: realServerRule(service, server) },
    commands: [ipvsadm('-a', ...selector(service), ...realServerOptions(server))],
    phase: 'balance',
    joining: serverRef(service, server),
  };
}

function editServer(service: VirtualService, before: RealServer, after: RealServer): Change[] {
  const changed = differences([
    ['forwarding', before.forwarding, after.forwarding],
    ['tunnel', before.options.join(' ') || 'ipip', after.options.join(' ') || 'ipip'],
    ['weight', String(before.weight), String(after.weight)],
  ]);
  // A connection keeps the forwarding method it was made with (bound-connections.ts), and the
  // engine drains the old method's connections; the tunnel type is read from the server at every
  // packet, so a change of it reaches every connection at once.
  const marks = switchMarks(service, before, after);
  const pinned = switchPins(before.forwarding, after.forwarding);
  return [
    {
      resource: `ipvs ${serviceName(service)}`,
      summary: `real server ${realServerName(after)} ${changed} in ${serviceName(service)}`,
      diff: { kind: 'value', before: realServerRule(service, before), after: realServerRule(service, after) },
      commands: [...(pinned ? [pinNextHop(after.address)] : []), ipvsadm('-e', ...selector(service), ...realServerOptions(after)), ...(marks.rebinds ? [listBoundCommand(marks.rebinds.server)] : [])],
      phase: 'balance',
      ...marks,
      // A new method, or new connections after none: what its host prepares for them must be there.
      ...(before.forwarding !== after.forwarding || (before.weight === 0 && after.weight > 0) ? { joining: serverRef(service, after) } : {}),
      ...(before.weight > 0 && after.weight === 0 ? { quiets: serverRef(service, after) } : {}),
    },
    ...(pinned ? [switchUnpin(service, after)] : []),
  ];
}

/**
 * Weight 0 before a real server leaves: new connections go to the others, established ones go
 * on (`ipvsadm -d` would drop them). -e resets every option it is not given, so it repeats the
 * server's forwarding and tunnel options. Nothing to do for a server already at weight 0.
 */
function quiesceServer(service: VirtualService, server: RealServer): Change[] {
  if (server.weight === 0) return [];
  const quiet = { ...server, weight: 0 };
  return [
    {
      resource: `ipvs ${serviceName(service)}`,
      summary: `quiesce real server ${realServerName(server)} in ${serviceName(service)} (weight ${server.weight} -> 0, then drain)`,
      diff: { kind: 'value', before: realServerRule(service, server), after: realServerRule(service, quiet) },
      commands: [quiesceCommand(service, server)],
      phase: 'balance',
      leaving: serverRef(service, server),
    },
  ];
}

function removeServer(service: VirtualService, server: RealServer): Change[] {
  return [
    ...quiesceServer(service, server),
    {
      resource: `ipvs ${serviceName(service)}`,
      summary: `remove real server ${realServerName(server)} (${describeServer(server)}) from ${serviceName(service)}`,
      diff: { kind: 'value', before: realServerRule(service, server), after: ABSENT },
      commands: [ipvsadm('-d', ...selector(service), '-r', realServerName(server))],
      phase: 'withdraw',
      leaving: serverRef(service, server),
    },
  ];
}

function addService(service: VirtualService): Change[] {
  return [
    {
      resource: `ipvs ${serviceName(service)}`,
      summary: `add service ${serviceName(service)} (${describeService(service)})`,
      diff: { kind: 'value', before: ABSENT, after: serviceRule(service) },
      commands: [ipvsadm('-A', ...selector(service), ...serviceOptions(service))],
      phase: 'balance',
    },
    ...service.realServers.map((server) => addServer(service, server)),
  ];
}

/**
 * A server already at weight 0 (an earlier apply or an operator quiesced it) needs no edit, yet it
 * may still carry established connections that `ipvsadm -D` would cut: the engine drains it all
 * the same, found by this change, which runs nothing.
 */
function drainQuiesced(service: VirtualService, server: RealServer): Change[] {
  if (server.weight !== 0) return [];
  return [
    {
      resource: `ipvs ${serviceName(service)}`,
      summary: `drain real server ${realServerName(server)} of ${serviceName(service)} (at weight 0 already)`,
      commands: [],
      phase: 'withdraw',
      leaving: serverRef(service, server),
    },
  ];
}

/** A service goes as its real servers would: each quiesced and drained, then the service deleted. */
function removeService(service: VirtualService): Change[] {
  const count = service.realServers.length;
  const [sorted] = sortTable([service]);
  const servers = sorted?.realServers ?? [];
  return [
    ...servers.flatMap((server) => [...drainQuiesced(service, server), ...quiesceServer(service, server)]),
    {
      resource: `ipvs ${serviceName(service)}`,
      summary: `remove service ${serviceName(service)} (${describeService(service)}, ${count} real server${count === 1 ? '' : 's'})`,
      diff: { kind: 'value', before: serviceRule(service), after: ABSENT },
      commands: [ipvsadm('-D', ...selector(service))],
      phase: 'withdraw',
    },
  ];
}

function editService(current: VirtualService, wanted: VirtualService): Change[] {
  const changes: Change[] = [];
  if (serviceRule(current) !== serviceRule(wanted)) {
    const changed = differences([
      ['scheduler', current.scheduler, wanted.scheduler],
      ['persistence', describePersistence(current), describePersistence(wanted)],
      ['options', current.options.join(' ') || 'none', wanted.options.join(' ') || 'none'],
    ]);
    // -E replaces every service setting (ipvsadm fills in wlc for a missing -s and drops
    // persistence without -p), so it always carries the whole wanted definition.
    const edit = ['ipvsadm', '-E', ...selector(wanted), ...serviceOptions(wanted)];
    changes.push({
      resource: `ipvs ${serviceName(wanted)}`,
      summary: `service ${serviceName(wanted)} ${changed}`,
      diff: { kind: 'value', before: serviceRule(current), after: serviceRule(wanted) },
      commands: [current.scheduler === wanted.scheduler ? command(...edit) : swapScheduler(wanted, edit)],
      phase: 'balance',
    });
  }
  const find = (servers: readonly RealServer[], server: RealServer): RealServer | undefined =>
    servers.find((other) => realServerName(other) === realServerName(server));
  // A server set to weight 0 takes no new connection from its edit on: it goes after every add
  // and edit, so the servers that take its share are in before it stops (a service whose only
  // weighted server is set to 0 beside one added would refuse new connections in between).
  const stopping = (server: RealServer, existing: RealServer | undefined): boolean => existing !== undefined && existing.weight > 0 && server.weight === 0;
  const edits = wanted.realServers.map((server) => ({ server, existing: find(current.realServers, server) }));
  for (const { server, existing } of [...edits.filter((edit) => !stopping(edit.server, edit.existing)), ...edits.filter((edit) => stopping(edit.server, edit.existing))]) {
    if (!existing) changes.push(addServer(wanted, server));
    else if (realServerRule(wanted, existing) !== realServerRule(wanted, server)) changes.push(...editServer(wanted, existing, server));
  }
  // Removals last, so a service being reshuffled never passes through having no server at all.
  const [sorted] = sortTable([current]);
  for (const server of sorted?.realServers ?? []) {
    if (!find(wanted.realServers, server)) changes.push(...removeServer(current, server));
  }
  return changes;
}

export interface TablePlan {
  readonly changes: Change[];
  /** The table once the changes ran, in ipvsadm's order. */
  readonly table: VirtualService[];
}

/**
 * The service without what it would ask of a real server at a withheld address (its host failed
 * to prepare in this run, so what the change needs there may be missing): it is not added; one it
 * already has stays, but keeps its forwarding method (the new method's routes or VIP may be missing
 * there) and stays at weight 0 if it was (the directors send it no new connection). In a fwmark
 * service whose marks come to cover a new address (`gainingMarks`), it goes to weight 0: IPVS sends
 * every address of the service to every server, and that one may lack the new VIP.
 */
function withoutWithheld(wanted: VirtualService, existing: VirtualService | undefined, withheld: ReadonlySet<string>, gainingMarks: ReadonlySet<number>): VirtualService {
  if (withheld.size === 0) return wanted;
  const present = new Map((existing?.realServers ?? []).map((server) => [realServerName(server), server]));
  const newAddress = wanted.protocol === 'fwmark' && gainingMarks.has(wanted.fwmark);
  return {
    ...wanted,
    realServers: wanted.realServers.flatMap((server) => {
      const was = present.get(realServerName(server));
      if (!withheld.has(server.address)) return [server];
      if (was === undefined) return [];
      return [{ ...server, forwarding: was.forwarding, options: was.options, weight: was.weight === 0 || (newAddress && server.forwarding !== 'nat') ? 0 : server.weight }];
    }),
  };
}

export function planTable(spec: IpvsSpec, current: Table, withheld: ReadonlySet<string> = new Set(), gainingMarks: ReadonlySet<number> = new Set()): TablePlan {
  const changes: Change[] = [];
  let table = [...current];
  const managed = new Set<string>();
  for (const serviceSpec of spec.services) {
    const name = specServiceName(serviceSpec);
    managed.add(name);
    const existing = table.find((service) => serviceName(service) === name);
    if (serviceSpec.state === 'absent') {
      if (existing) changes.push(...removeService(existing));
      table = table.filter((service) => service !== existing);
      continue;
    }
    const wanted = withoutWithheld(desiredService(serviceSpec), existing, withheld, gainingMarks);
    changes.push(...(existing ? editService(existing, wanted) : addService(wanted)));
    table = existing ? table.map((service) => (service === existing ? wanted : service)) : [...table, wanted];
  }
  if (spec.purge) {
    const unmanaged = (service: VirtualService): boolean => !managed.has(serviceName(service));
    changes.push(...sortTable(table).filter(unmanaged).flatMap(removeService));
    table = table.filter((service) => !unmanaged(service));
  }
  return { changes, table: sortTable(table) };
}
