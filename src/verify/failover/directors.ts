import type { VrrpGroup } from '../../config/ha-model.js';
import { interfaceName } from '../../config/values.js';
import type { LoadedInventory } from '../../config/inventory.js';
import { newNonce, parseReadSections, readScript } from '../../engine/batch-script.js';
import { isIpv4 } from '../../net/ipv4.js';
import { quote } from '../../shell/quote.js';
import { scriptEnvironment } from '../../shell/script-environment.js';
import { KEEPALIVED_RUNNING_PROBE } from '../../status/vrrp.js';
import { vipPlans } from '../arp-plan.js';
import { deviceProbe, parseDeviceFacts } from '../director-probe.js';
import type { SessionPool } from '../session-pool.js';
import type { DirectorSeen } from './drill-plan.js';

// What the drill reads on each director of a VRRP instance, again and again while it waits: which
// of the instance's VIPs are on the director's interfaces, and whether keepalived runs. One
// script per director per read.

/** director -> VIP -> the device that carries it there. */
export type VipDevices = ReadonlyMap<string, ReadonlyMap<string, string>>;

export function vipDevices(inventory: LoadedInventory, group: VrrpGroup): VipDevices {
  const vips = new Set(group.vips.map((vip) => vip.address));
  const devices = new Map<string, Map<string, string>>();
  for (const plan of vipPlans(inventory)) {
    if (!vips.has(plan.vip)) continue;
    for (const { host, device } of plan.directors) devices.set(host, (devices.get(host) ?? new Map<string, string>()).set(plan.vip, device));
  }
  return devices;
}

export async function readDirectors(pool: SessionPool, group: VrrpGroup, devices: VipDevices): Promise<DirectorSeen[]> {
  return Promise.all(
    group.directors.map(async ({ host }): Promise<DirectorSeen> => {
      const byVip = [...(devices.get(host) ?? new Map<string, string>()).entries()];
      const list = [...new Set(byVip.map(([, device]) => device))];
      const nonce = newNonce();
      const probes = [...list.map(deviceProbe), KEEPALIVED_RUNNING_PROBE];
      const run = await pool.run(host, 'director', readScript(nonce, probes));
      if (!run) return { host, holds: [], error: pool.contacts().find((contact) => contact.host === host)?.error ?? 'unreachable' };
      const sections = parseReadSections(nonce, run.stdout, probes.length);
      const facts = new Map(list.map((device, index) => [device, parseDeviceFacts(device, sections.get(index))]));
      const broken = [...facts.values()].find((fact) => fact.error !== undefined);
      const running = sections.get(list.length)?.stdout.trim();
      if (broken || (running !== 'running' && running !== 'stopped')) return { host, holds: [], error: broken?.error ?? 'the keepalived check did not answer' };
      const holds = byVip.filter(([vip, device]) => facts.get(device)?.addresses.some((entry) => entry.address === vip)).map(([vip]) => vip);
      return { host, holds, running: running === 'running' };
    }),
  );
}

/** Who holds every VIP of the instance alone, or the list of those holding any. */
export function holdersOf(seen: readonly DirectorSeen[]): string[] {
  return seen.filter((director) => director.holds.length > 0).map((director) => director.host);
}

/**
 * Run on the director expected to take the VIPs, before the action: says `NONCE watching`, then
 * polls its own interfaces every 50 ms and prints `NONCE held` the moment every VIP is there (or
 * `NONCE timeout`), so the drill learns of the move within a line's trip rather than a whole read.
 */
export function takeoverWatchScript(nonce: string, vips: ReadonlyMap<string, string>, limitSeconds: number): string {
  if (!/^[0-9a-f]+$/.test(nonce)) throw new Error('the nonce must be hex');
  const tests = [...vips.entries()].map(([vip, device]) => {
    if (!isIpv4(vip)) throw new Error(`not an IPv4 address: ${vip}`);
    interfaceName.parse(device);
    return `ip -o -4 addr show dev ${quote(device)} 2>/dev/null | grep -qF ${quote(` ${vip}/`)}`;
  });
  return [
    scriptEnvironment,
    `printf '%s watching\\n' ${nonce}`,
    'i=0',
    `until ${tests.length > 0 ? tests.join(' && ') : 'false'}; do`,
    `  i=$((i + 1)); if [ "$i" -ge ${Math.max(1, Math.round(limitSeconds * 20))} ]; then printf '%s timeout\\n' ${nonce}; exit 0; fi`,
    '  sleep 0.05',
    'done',
    `printf '%s held\\n' ${nonce}`,
    '',
  ].join('\n');
}
