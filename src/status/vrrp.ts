import { resolveHa } from '../config/ha-model.js';
import { keepalivedAlive } from '../resources/keepalived/probe.js';
import type { LoadedInventory } from '../config/inventory.js';
import type { SectionResult } from '../engine/batch-script.js';
import type { HeldAddress } from './director-read.js';

// A director's VRRP state under lvs.ha, as status sees it from outside keepalived: whether
// keepalived runs, and which VIPs of each of its VRRP instances it holds. A MASTER holds its
// instance's VIPs and a BACKUP none; keepalived's own state machine is not asked (it would need a
// signal that makes the daemon write a dump file), so a state is named by what the kernel shows.

export const KEEPALIVED_RUNNING_PROBE = `if ${keepalivedAlive}; then echo running; else echo stopped; fi`;

/**
 * master / backup: keepalived runs and holds all / none of the instance's VIPs. partial: it runs
 * and holds some. stopped: keepalived does not run and holds none. leftover: it does not run but
 * VIPs are still on the interfaces (a killed keepalived leaves them): the host may answer ARP.
 */
export type VrrpState = 'master' | 'backup' | 'partial' | 'stopped' | 'leftover' | 'unknown';

export interface VrrpStatus {
  /** keepalived's name for the instance, `VI_<id>`. */
  readonly instance: string;
  readonly virtualRouterId: number;
  readonly priority: number;
  readonly state: VrrpState;
  readonly held: readonly string[];
  readonly notHeld: readonly string[];
  /** Why the state is unknown. */
  readonly error?: string;
}

/** The VRRP instances `host` takes part in; empty without lvs.ha. */
export function vrrpInstances(inventory: Pick<LoadedInventory, 'source' | 'data' | 'services'>, host: string): Array<{ virtualRouterId: number; priority: number; vips: string[] }> {
  return (resolveHa(inventory)?.groups ?? []).flatMap((group) => {
    const me = group.directors.find((director) => director.host === host);
    return me ? [{ virtualRouterId: group.virtualRouterId, priority: me.priority, vips: group.vips.map((vip) => vip.address) }] : [];
  });
}

export function vrrpStatus(instances: ReturnType<typeof vrrpInstances>, running: SectionResult | undefined, addresses: readonly HeldAddress[]): VrrpStatus[] {
  const answer = running?.status === 0 ? running.stdout.trim() : '';
  return instances.map(({ virtualRouterId, priority, vips }) => {
    const held = vips.filter((vip) => addresses.some((entry) => entry.address === vip));
    const notHeld = vips.filter((vip) => !held.includes(vip));
    const base = { instance: `VI_${virtualRouterId}`, virtualRouterId, priority, held, notHeld };
    if (answer === 'running') return { ...base, state: notHeld.length === 0 ? 'master' : held.length === 0 ? 'backup' : 'partial' };
    if (answer === 'stopped') return { ...base, state: held.length === 0 ? 'stopped' : 'leftover' };
    return { ...base, state: 'unknown', error: running ? `the keepalived check printed ${JSON.stringify(running.stdout.trim())} (exit ${running.status})` : 'the read script ended early' };
  });
}

const described: Record<VrrpState, (status: VrrpStatus) => string> = {
  master: (status) => `MASTER (keepalived runs, holds ${status.held.join(', ')})`,
  backup: () => 'BACKUP (keepalived runs, holds none of its VIPs)',
  partial: (status) => `! PART MASTER: holds ${status.held.join(', ')} but not ${status.notHeld.join(', ')}`,
  stopped: () => '! keepalived is not running (holds none of its VIPs)',
  leftover: (status) => `! keepalived is not running, yet ${status.held.join(', ')} still on its interfaces (left by a killed keepalived): it may answer ARP for them`,
  unknown: (status) => `? unknown: ${status.error ?? ''}`,
};

/** `VRRP VI_51 (id 51, priority 150): MASTER (keepalived runs, holds 198.51.100.50)`. */
export function describeVrrp(status: VrrpStatus): string {
  return `VRRP ${status.instance} (id ${status.virtualRouterId}, priority ${status.priority}): ${described[status.state](status)}`;
}
