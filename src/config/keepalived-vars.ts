import type { KeepalivedSpec } from '../resources/keepalived/schema.js';
import { keepalivedHolds, resolveHa, type HaModel, type VrrpGroup } from './ha-model.js';
import { directorAddress } from './dip.js';
import type { LoadedInventory } from './inventory.js';
import type { ResolvedService } from './lvs-model.js';
import { own } from './own.js';
import { vipLabel } from './vip-label.js';

// What keepalived holds on one director, in the shape of the keepalived task: the VRRP instances
// of the VIPs it shares with other directors, and every virtual service it directs. A director is
// keepalived's when lvs.ha names it or one of its services has a health check, sorry server,
// quorum or inhibit_on_failure: true; then keepalived alone edits its IPVS table (two writers would
// undo each other), and with lvs.ha it alone adds and removes the VIPs.

type Input = Omit<KeepalivedSpec, 'path' | 'garp' | 'instances' | 'sync_groups' | 'virtual_servers'> & Partial<KeepalivedSpec>;

export function directorKeepalived(inventory: LoadedInventory, host: string, defaultDevice: string): Input | undefined {
  if (!keepalivedHolds(inventory, host)) return undefined;
  const ha = resolveHa(inventory);
  const groups = (ha?.groups ?? []).filter((group) => group.directors.some((director) => director.host === host));
  const vrrp = ha ? vrrpOf(inventory, ha, groups, host, defaultDevice) : { instances: [], sync_groups: [] };
  return {
    router_id: host,
    advert_interval: ha?.settings.advert_interval ?? 1,
    ...(ha?.settings.garp ? { garp: { ...ha.settings.garp } } : {}),
    ...vrrp,
    virtual_servers: inventory.services.filter((service) => service.directors.includes(host)).map(virtualServer),
  };
}

function vrrpOf(inventory: LoadedInventory, ha: HaModel, groups: readonly VrrpGroup[], host: string, defaultDevice: string): Pick<KeepalivedSpec, 'instances' | 'sync_groups'> {
  const instances: KeepalivedSpec['instances'] = groups.map((group) => {
    // A VIP goes on its own interface, else lvs.ha.interface, else the director's default, as
    // lvsprov's address task puts it without lvs.ha: never on another VIP's interface (the first
    // VIP listed on eth2 took every other VIP of its group there). VRRP runs on lvs.ha.interface,
    // else the default device when a VIP is there, else the first VIP's: not on the order of lvs.vips.
    const vipDefault = ha.settings.interface ?? defaultDevice;
    const device = group.vips.some((vip) => vip.interface === undefined) ? vipDefault : (ha.settings.interface ?? group.vips[0]?.interface ?? defaultDevice);
    return {
      ...roleIn(group, host, (director) => addressOf(inventory, director, 'address')),
      name: `VI_${group.virtualRouterId}`,
      virtual_router_id: group.virtualRouterId,
      interface: device,
      vips: group.vips.map((vip) => {
        const vipDevice = vip.interface ?? vipDefault;
        return { address: vip.address, prefix: 32, device: vipDevice, label: vipLabel(vipDevice, vip.address) };
      }),
    };
  });
  const gateway = ha.settings.gateway;
  const natGroups = groups.filter((group) => group.nat);
  const first = natGroups[0];
  if (!gateway || !first) return { instances, sync_groups: [] };
  const name = `VI_${gateway.virtual_router_id}`;
  // The gateway's adverts go over the inside network, between the directors' inside addresses
  // (their `dip` var): it fails over when that side breaks, and the sync group takes the VIPs along.
  instances.push({
    ...roleIn(first, host, (director) => addressOf(inventory, director, 'dip')),
    name,
    virtual_router_id: gateway.virtual_router_id,
    interface: gateway.interface,
    vips: [{ address: gateway.address, prefix: gateway.prefix, device: gateway.interface }],
  });
  return { instances, sync_groups: [{ name: `SG_${gateway.virtual_router_id}`, instances: [...natGroups.map((group) => `VI_${group.virtualRouterId}`), name] }] };
}

function roleIn(group: VrrpGroup, host: string, addressOf: (director: string) => string): Pick<KeepalivedSpec['instances'][number], 'state' | 'priority' | 'nopreempt' | 'unicast_src_ip' | 'unicast_peers'> {
  const me = group.directors.find((director) => director.host === host);
  if (!me) throw new Error(`${host} is not a director of VRRP id ${group.virtualRouterId}`);
  return {
    state: me.state,
    priority: me.priority,
    nopreempt: me.nopreempt,
    unicast_src_ip: addressOf(host),
    unicast_peers: group.directors.filter((director) => director.host !== host).map((director) => addressOf(director.host)),
  };
}

/** A director's address for VRRP adverts: its inventory address on the VIPs' side, its `dip` on the inside. */
function addressOf(inventory: LoadedInventory, host: string, which: 'address' | 'dip'): string {
  const address = which === 'dip' ? directorAddress(inventory, host) : own(inventory.data.hosts, host)?.address;
  return address ?? '';
}

function virtualServer(service: ResolvedService): KeepalivedSpec['virtual_servers'][number] {
  return {
    protocol: service.protocol,
    ...(service.address !== undefined && service.protocol !== 'fwmark' ? { address: service.address } : {}),
    port: service.protocol === 'fwmark' ? 0 : service.port,
    ...(service.fwmark !== undefined ? { fwmark: service.fwmark } : {}),
    scheduler: service.scheduler as KeepalivedSpec['virtual_servers'][number]['scheduler'],
    forwarding: service.forwarding,
    ...(service.persistence ? { persistence: { ...service.persistence } } : {}),
    real_servers: service.realServers.map((server) => ({ address: server.address, port: server.port, weight: server.weight })),
    ...(service.healthCheck ? { health_check: { ...service.healthCheck } } : {}),
    inhibit_on_failure: service.inhibitOnFailure ?? false,
    ...(service.sorryServer ? { sorry_server: { ...service.sorryServer } } : {}),
    ...(service.quorum !== undefined ? { quorum: service.quorum } : {}),
  };
}
