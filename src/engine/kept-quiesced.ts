import type { CompiledTask } from '../config/compile.js';
import { fwmark, specMarks, type FwmarkSpec } from '../resources/fwmark.js';
import { serverRef, type VirtualService } from '../resources/ipvs/model.js';
import { desiredService, type IpvsSpec } from '../resources/ipvs/schema.js';
import { expectedService } from '../resources/keepalived/table.js';
import type { KeepalivedSpec } from '../resources/keepalived/schema.js';
import type { RealServerRef } from '../resources/types.js';
import { markVips } from './mark-vips.js';

// The real servers a director's tasks keep in a service at weight 0 (an operator's "drain this
// one"): once the balance wave ran they get no new connection, but those made before stay open
// there. Where such a server's own daemon restarts in the retire wave, the engine drains them on
// this director first (wave-plan.ts). Taken from the declared specs, which the apply makes true
// by balance, so a server quiesced in this run and one at weight 0 already count alike.

export function keptQuiesced(tasks: readonly CompiledTask[]): RealServerRef[] {
  const refs = declaredServices(tasks).flatMap((service) => service.realServers.filter((server) => server.weight === 0).map((server) => serverRef(service, server)));
  if (refs.length === 0) return [];
  // A fwmark service's servers carry the addresses its marks cover, as a leaving one's do (mark-vips.ts).
  const marks = tasks.flatMap((task) => (task.type === fwmark.name ? specMarks(task.spec as FwmarkSpec) : []));
  return refs.map((ref) => markVips(ref, marks));
}

/** The virtual services a director's tasks declare present, by IPVS table or keepalived config. */
export function declaredServices(tasks: readonly CompiledTask[]): VirtualService[] {
  return tasks.flatMap((task): VirtualService[] => {
    if (task.type === 'ipvs') return (task.spec as IpvsSpec).services.filter((service) => service.state !== 'absent').map(desiredService);
    if (task.type === 'keepalived') return (task.spec as KeepalivedSpec).virtual_servers.map(expectedService);
    return [];
  });
}
