import { pollUntil } from '../../shell/poll.js';
import { quote } from '../../shell/quote.js';
import { configShape, keepalivedConfig } from './config-text.js';
import { liveInstances, vipAddresses } from './live-instances.js';
import { keepalivedAlive } from './probe.js';
import type { KeepalivedSpec } from './schema.js';

// A VIP a running keepalived takes on with a reload is on its device, and announced, at once,
// while the real servers of a health-checked service on it enter the table only once their first
// check passed (alpha): until then the director answers every SYN to the VIP with a reset. For a
// new VIP nobody uses yet that is harmless; for one that moves here from another pair of
// directors, the clients' new connections were refused for as long as the first checks took
// (0.8 s in the qemu lab, where dir1 took 198.51.100.51 over from dir3). So a reload that brings
// such a VIP is two: the config with its services first, then, once a real server of each is in
// the table with a weight above 0 (or the checks' time is up: the VIP comes anyway, as it would
// have), the config with the VIP. Where those services are all the first config adds to the
// running one, it is written in the prepare wave: with no VIP of theirs here no packet reaches
// them, and their first checks are over by balance, where the VIP comes as another director lets
// it go (engine/vrrp-moves.ts), with no gap between the two. With other edits in it (a server
// joining a live service, one leaving), it waits for balance, as they must.

/** The VIPs `spec`'s instances hold that the running config (`running`) gives none of its instances. */
export function arrivingVips(spec: KeepalivedSpec, running: string): string[] {
  const held = new Set(vipAddresses(liveInstances(running)));
  return vipAddresses(spec.instances).filter((address) => !held.has(address));
}

/** The health-checked virtual servers on `addresses` (by address: a fwmark service names none). */
function checkedServices(spec: KeepalivedSpec, addresses: readonly string[]): KeepalivedSpec['virtual_servers'] {
  return spec.virtual_servers.filter((server) => server.health_check !== undefined && server.address !== undefined && addresses.includes(server.address) && server.real_servers.length > 0);
}

/**
 * The config to write before `stage` where `stage` brings VIPs with health-checked services
 * (`arriving`): `stage` without those VIPs, the shell that then waits for a live real server of
 * each of their services, and whether those services are all it adds to `running` (it may then
 * come in prepare). Undefined where `stage` brings none.
 */
export function servicesFirst(stage: KeepalivedSpec, arriving: readonly string[], running: string): { text: string; vips: string[]; wait: string[]; alone: boolean } | undefined {
  const services = checkedServices(stage, arriving);
  const vips = [...new Set(services.flatMap((server) => (server.address === undefined ? [] : [server.address])))];
  if (vips.length === 0) return undefined;
  const instances = stage.instances.map((instance) => ({ ...instance, vips: instance.vips.filter((vip) => !vips.includes(vip.address)) }));
  const text = keepalivedConfig({ ...stage, instances });
  // Those services alone: the running config is this one without them.
  const alone = configShape(keepalivedConfig({ ...stage, instances, virtual_servers: stage.virtual_servers.filter((server) => !services.includes(server)) })) === configShape(running);
  // The first check runs at once (warmup 0); one that fails waits an interval for the next.
  const seconds = Math.max(...services.map((server) => (server.health_check ? server.health_check.interval + server.health_check.timeout : 0))) + 5;
  const live = services.map((server) => {
    const flag = server.protocol === 'udp' ? '-u' : '-t';
    const pattern = `^-a ${flag} ${(server.address ?? '').replace(/\./g, '\\.')}:${server.port} -r .* -w [1-9]`;
    return `ipvsadm -S -n 2>/dev/null | grep -q -e ${quote(pattern)}`;
  });
  return { text, vips, wait: [`if ${keepalivedAlive}; then ${pollUntil(live.join(' && '), seconds)}; fi`], alone };
}
