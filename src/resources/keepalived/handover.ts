import { command, quote } from '../../shell/quote.js';
import { realServerName, selector, serverRef, serviceName, type VirtualService } from '../ipvs/model.js';
import { quiesceCommand } from '../ipvs/quiesce-command.js';
import type { Change } from '../types.js';
import { handOverStop } from './daemon.js';
import { drainOnly } from './plan.js';
import type { KeepalivedFacts } from './probe.js';
import type { KeepalivedSpec } from './schema.js';
import { expectedService } from './table.js';
import { addressOnDevice } from './vip-bridge.js';

// A director handed from keepalived back to lvsprov's own tasks: lvs.ha (or the last health
// check) dropped from the inventory while the host stays a director. The address and ipvs tasks
// then declare the VIPs and virtual services keepalived holds; they find them present and plan
// nothing, so keepalived must go without taking them along (handOverStop). What keepalived held
// that no task takes over (a NAT gateway, a service dropped in the same apply) is removed after
// it, as its clean stop would have done.

const vipId = (vip: { address: string; device: string }): string => `address ${vip.address} on ${vip.device}`;

/**
 * What keepalived holds, as lvsprov's address and ipvs tasks would own it: each VIP an address,
 * each virtual server an ipvs service (in the default save file, as the director role writes it).
 */
export function heldObjects(spec: KeepalivedSpec): Array<{ id: string; type: string; spec: unknown }> {
  const vips = spec.instances.flatMap((instance) =>
    instance.vips.map((vip) => ({ id: vipId(vip), type: 'address', spec: { address: vip.address, prefix: vip.prefix, device: vip.device, ...(vip.label ? { label: vip.label } : {}), state: 'present' } })),
  );
  const services = spec.virtual_servers.map((server) => {
    const service = expectedService(server);
    const words = service.protocol === 'fwmark' ? { fwmark: service.fwmark } : { address: service.address, port: service.port };
    // Persistence too: a port-0 service is one only with it, and the ipvs schema refuses it without.
    const persistence = service.persistence ? { persistence: { timeout: service.persistence.timeout, netmask: service.persistence.netmask } } : {};
    const ipvs = { protocol: service.protocol, ...words, scheduler: service.scheduler, ...persistence, state: 'present', real_servers: [] };
    return { id: `ipvs ${serviceName(service)}`, type: 'ipvs', spec: { save_file: 'auto', purge: false, services: [ipvs] } };
  });
  return [...new Map([...vips, ...services].map((object) => [object.id, object])).values()];
}

/** The ownership ids of what keepalived holds that `declared` takes over; empty: nothing is handed over. */
export function handedOver(spec: KeepalivedSpec, declared: ReadonlySet<string> | undefined): string[] {
  return declared === undefined ? [] : heldObjects(spec).map((object) => object.id).filter((id) => declared.has(id));
}

/** The live virtual services keepalived's config names that no task of the run takes over (`declared`: none when undefined). */
export function releasedServices(spec: KeepalivedSpec, facts: KeepalivedFacts, declared: ReadonlySet<string> | undefined): VirtualService[] {
  const names = new Set(spec.virtual_servers.map((server) => serviceName(expectedService(server))).filter((name) => !declared?.has(`ipvs ${name}`)));
  return facts.table.filter((service) => names.has(serviceName(service)));
}

/**
 * Before keepalived's services go with it (the hand-over's ipvsadm -D in retire, or its stop in
 * withdraw) where an apply prunes it: their real servers to weight 0 in balance, each drained by
 * the engine, as a service dropped from a running keepalived's config is. Whether still there is
 * asked first: keepalived's checks may have taken a server out meanwhile.
 */
export function releaseDrain(services: readonly VirtualService[]): Change[] {
  const refs = services.flatMap((service) => service.realServers.map((server) => ({ service, server })));
  if (refs.length === 0) return [];
  const quiesce = refs
    .filter(({ server }) => server.weight > 0)
    .map(({ service, server }) => {
      const rule = ['-a', ...selector(service), '-r', realServerName(server)].join(' ');
      return `if ipvsadm -S -n 2>/dev/null | grep -qF -e ${quote(`${rule} `)}; then ${quiesceCommand(service, server)}; fi`;
    });
  const [first, ...others] = refs as [(typeof refs)[number], ...typeof refs];
  return [
    {
      resource: 'keepalived',
      summary: `quiesce the real servers of ${services.map(serviceName).join(', ')}, which go with keepalived (weight 0, then drain)`,
      commands: quiesce,
      phase: 'balance',
      leaving: serverRef(first.service, first.server),
    },
    ...others.map(({ service, server }) => drainOnly(service, server)),
  ];
}

/**
 * The stop of a running keepalived whose VIPs or virtual services lvsprov's tasks take over. It
 * runs in the retire wave: after the withdraw wave, where every director that leaves the pair
 * stopped its own keepalived (cleanly: it holds no VIP to keep), so that no backup is left to take
 * the VIPs once this keepalived's adverts stop. `services`: releasedServices, removed after the kill.
 */
export function handOverChange(spec: KeepalivedSpec, facts: KeepalivedFacts, kept: readonly string[], declared: ReadonlySet<string>, services: readonly VirtualService[]): Change {
  const vips = spec.instances.flatMap((instance) => instance.vips).filter((vip) => !declared.has(vipId(vip)));
  const releasedVips = [...new Map(vips.map((vip) => [vipId(vip), vip])).values()];
  const released = [...releasedVips.map((vip) => `${vip.address} on ${vip.device}`), ...services.map(serviceName)];
  return {
    resource: 'keepalived',
    summary:
      `hand ${kept.map((id) => id.replace(/^(address|ipvs) /, '')).join(', ')} over from keepalived to lvsprov: stop keepalived without releasing them (SIGKILL, children first)` +
      (released.length > 0 ? `; then remove what no task takes over: ${released.join(', ')}` : ''),
    diff: { kind: 'value', before: 'running', after: 'stopped' },
    commands: [
      handOverStop(facts.manager),
      ...releasedVips.map((vip) => {
        const cidr = `${vip.address}/${vip.prefix}`;
        return `if ${addressOnDevice(cidr, vip.device)}; then ${command('ip', 'addr', 'del', cidr, 'dev', vip.device)}; fi`;
      }),
      ...services.map((service) => command('ipvsadm', '-D', ...selector(service))),
    ],
    phase: 'retire',
    releases: releasedVips.map((vip) => vip.address),
    vrrpPeers: [...new Set(spec.instances.flatMap((instance) => instance.unicast_peers))],
  };
}
