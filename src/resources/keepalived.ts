import { command } from '../shell/quote.js';
import { ABSENT_FILE, removeFileChange } from './file-state.js';
import { configuredServers, joiningAddresses, withoutWithheld } from './keepalived/withheld.js';
import { adoptionChanges, configChanges, daemonChanges, driftChanges, predictedTable } from './keepalived/plan.js';
import { vipAddresses } from './keepalived/live-instances.js';
import { parseProbe, probeSnippet, probeSnippetWithoutAddresses, probeSnippetWithoutPins, type KeepalivedFacts } from './keepalived/probe.js';
import { keepalivedConfig } from './keepalived/config-text.js';
import { daemonCommand, untilStopped } from './keepalived/daemon.js';
import { handedOver, handOverChange, heldObjects, releaseDrain, releasedServices } from './keepalived/handover.js';
import { leaveChange, movedVipPeers } from './keepalived/leave.js';
import { heldBeforeCommand, untilPeerSkewPassed } from './keepalived/peer-skew.js';
import { droppedPeers, refuseUnretiredPeers } from './keepalived/peers.js';
import { misplacedVrrpSource } from './keepalived/vrrp-source.js';
import { keepalivedSchema, type KeepalivedSpec } from './keepalived/schema.js';
import { expectedService, sorryInUse } from './keepalived/table.js';
import { realServerName, serviceName } from './ipvs/model.js';
import { leftoverUnpins } from './ipvs/next-hop-pin.js';
import { ipvsUnavailable } from './ipvs/probe.js';
import type { Change, ResourceNote, ResourceType } from './types.js';

// keepalived on a director: its config generated from the spec (VRRP instances for the VIPs,
// virtual servers with their health checks), the daemon running and started at boot, and the live
// IPVS table held to what keepalived should hold. One key per host: keepalived has one config.

export type { KeepalivedSpec } from './keepalived/schema.js';
export type { KeepalivedFacts } from './keepalived/probe.js';

function requireIpvs(spec: KeepalivedSpec, facts: KeepalivedFacts, host: string): void {
  const unavailable = ipvsUnavailable(facts.ipvs);
  if (spec.virtual_servers.length === 0 || unavailable === undefined) return;
  throw new Error(
    `IPVS is not available on ${host} (${unavailable}); ` +
      "keepalived's virtual servers need a kernel with IP Virtual Server support (CONFIG_IP_VS)",
  );
}

/** `TCP 198.51.100.50:80 192.0.2.12:80` (a `down` key) as `192.0.2.12:80 in TCP 198.51.100.50:80: down (health check)`, with its reason. */
export function downNote(key: string): ResourceNote {
  const split = key.lastIndexOf(' ');
  const service = key.slice(0, split);
  const server = key.slice(split + 1);
  return { text: `${server} in ${service}: down (health check)`, reason: { kind: 'health-check-down', service, server } };
}

/** The services keepalived holds below their quorum: every real server out, the sorry server in. */
function sorryNotes(spec: KeepalivedSpec, facts: KeepalivedFacts): ResourceNote[] {
  return spec.virtual_servers.flatMap((server) => {
    const wanted = expectedService(server);
    const sorry = sorryInUse(server, facts.table.find((service) => serviceName(service) === serviceName(wanted)));
    const service = serviceName(wanted);
    return sorry ? [{ text: `${service}: below its quorum, keepalived sends its requests to the sorry server ${realServerName(sorry)}`, reason: { kind: 'below-quorum' as const, service } }] : [];
  });
}

/**
 * When a keepalived no task declares any more stops. reset: in withdraw, after the directors'
 * drains. An apply that drops a director from a VRRP group: in prepare, before the directors that
 * stay reload a config without it in balance. Stopped cleanly it sends priority 0 where it was
 * master, and a peer that still advertises to it takes the VIPs within the skew; stopped later, it
 * would hear no adverts once its peers reloaded and take the VIPs as a second master. Without
 * VRRP (health checks alone) it holds only the virtual servers, which stay until the withdraw
 * wave, after another director took the service over.
 */
function stopPhase(spec: KeepalivedSpec, context: { readonly pruning?: boolean }): 'prepare' | 'withdraw' {
  return context.pruning === true && spec.instances.length > 0 ? 'prepare' : 'withdraw';
}

/**
 * A director dropped from its VRRP groups says what its stop does to the VIPs: where it is master,
 * its last advert (priority 0) makes the next priority take over within its skew, under one
 * advert interval; a stop in withdraw (reset, health checks alone) says what it removes.
 */
function stopSummary(spec: KeepalivedSpec, phase: 'prepare' | 'withdraw'): string {
  const what = 'stop keepalived (it removes its VIPs and virtual servers)';
  if (phase !== 'prepare') return what;
  const names = spec.instances.map((instance) => instance.name).join(', ');
  return `${what}: where it is master of ${names}, its last advert (priority 0) hands the VIPs to the next priority within ${spec.advert_interval} s`;
}

export const keepalived: ResourceType<KeepalivedSpec, KeepalivedFacts> = {
  name: 'keepalived',
  schema: keepalivedSchema,

  key: () => 'keepalived',

  probe: probeSnippet,
  legacyProbes: (spec) => [probeSnippetWithoutPins(spec), probeSnippetWithoutAddresses(spec)],

  parse: (output) => parseProbe(output),

  plan(declared, facts, context) {
    const current = facts.file.exists ? facts.file.content : undefined;
    const configured = configuredServers(current);
    const spec = withoutWithheld(declared, configured, context.withheld, context.gainingMarks);
    requireIpvs(spec, facts, context.host);
    const misplaced = facts.addresses ? misplacedVrrpSource(spec, facts.addresses, context.host) : undefined;
    if (misplaced !== undefined) throw new Error(misplaced);
    refuseUnretiredPeers(droppedPeers(spec, current), context.cluster);
    // Stopped to leave its last VRRP group, it starts again on the config of the groups it joins.
    const daemon = leaveChange(spec, facts)?.stops === true ? { ...facts, running: false } : facts;
    // Every config it writes may add servers: the engine plans it again without those whose host failed to prepare.
    const joining = joiningAddresses(spec, configured);
    const config = configChanges(spec, facts, context.handingOver).map((change) => (joining.length > 0 && change.diff?.kind === 'file' && change.phase !== 'prepare' ? { ...change, joiningAddresses: joining } : change));
    const changes = [...config, ...daemonChanges(spec, daemon, movedVipPeers(spec, facts)), ...adoptionChanges(spec, facts), ...driftChanges(spec, facts)];
    return [...changes, ...leftoverUnpins(facts.pins, changes)];
  },

  // Servers keepalived took out (their check fails here too) are its decision, not drift: said, not changed.
  notes: (spec, facts) => (facts.running ? [...facts.down.map(downNote), ...sorryNotes(spec, facts)] : []),

  after(declared, facts, context) {
    const spec = withoutWithheld(declared, configuredServers(facts.file.exists ? facts.file.content : undefined), context?.withheld, context?.gainingMarks);
    const table = facts.ipvs.state === 'ok' ? predictedTable(spec, facts) : facts.table;
    return {
      ...facts,
      installed: true,
      file: { exists: true, content: keepalivedConfig(spec), mode: '644' },
      running: true,
      enabled: facts.enabled === null && facts.manager !== 'sysv' ? null : true,
      table,
      down: facts.down,
      answering: [],
      pins: [],
    };
  },

  // Going from lvsprov's own address and ipvs tasks to keepalived, the VIPs and virtual services
  // stay: keepalived takes them over (its checker adopts the services; its VRRP start takes the
  // VIPs off and puts them back as master), so their records are dropped without removing them.
  takesOver: heldObjects,

  // keepalived stops (removing the VIPs it holds and its virtual servers), no longer starts at
  // boot, and its config goes. The package stays, as packages do on reset. Pruned by an apply
  // whose address or ipvs tasks declare what it holds, it hands them over instead (handover.ts).
  reset: {
    plan(spec, facts, context) {
      const changes: Change[] = [];
      const kept = facts.running ? handedOver(spec, context.declared) : [];
      if (kept.length > 0 && context.declared) {
        // Killed, it sends no last advert: a peer nobody stops takes the VIPs three adverts later.
        refuseUnretiredPeers(spec.instances.flatMap((instance) => instance.unicast_peers), context.cluster);
        const released = releasedServices(spec, facts, context.declared);
        changes.push(...releaseDrain(released), handOverChange(spec, facts, kept, context.declared, released));
      } else if (facts.running) {
        const wait = untilStopped(facts.manager);
        const phase = stopPhase(spec, context);
        // In prepare its peers reload in balance, right after: not before the next priority took the VIPs.
        const skew = phase === 'prepare' ? { before: [heldBeforeCommand(spec.instances.flatMap((instance) => instance.vips))], after: [untilPeerSkewPassed] } : { before: [], after: [] };
        const commands = [...skew.before, daemonCommand(facts.manager, 'stop'), ...(wait === undefined ? [] : [wait]), ...skew.after];
        const releases = vipAddresses(spec.instances);
        // Pruned with no VRRP group to hand its VIPs on (health checks alone), it stops in withdraw: its services drain first.
        if (context.pruning === true && phase === 'withdraw') changes.push(...releaseDrain(releasedServices(spec, facts, context.declared)));
        changes.push({ resource: 'keepalived', summary: stopSummary(spec, phase), diff: { kind: 'value', before: 'running', after: 'stopped' }, commands, phase, releases });
      }
      if (facts.enabled === true) {
        const commands =
          facts.manager === 'systemd'
            ? [command('systemctl', 'disable', 'keepalived')]
            : facts.enabler === 'chkconfig'
              ? [command('chkconfig', 'keepalived', 'off')]
              : [command('update-rc.d', 'keepalived', 'disable')];
        changes.push({ resource: 'keepalived', summary: 'disable keepalived at boot', diff: { kind: 'value', before: 'enabled', after: 'disabled' }, commands, phase: 'retire' });
      }
      if (facts.file.exists) changes.push({ ...removeFileChange(spec.path, facts.file), phase: 'retire' });
      return [...changes, ...leftoverUnpins(facts.pins, changes)];
    },
    after: (_spec, facts) => ({ ...facts, running: false, enabled: facts.enabled === null ? null : false, file: ABSENT_FILE, table: [], pins: [] }),
  },
};
