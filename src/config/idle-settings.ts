import { formatProblem } from '../errors.js';
import type { LoadedInventory } from './inventory.js';
import type { PathSegment } from './yaml-source.js';

// Settings that are valid but that nothing reads in this inventory: a VIP's `virtual_router_id`
// without `lvs.ha` (no VRRP runs), and `lvs.ha.gateway` without a NAT service (no real server
// routes through it, so no gateway instance is written). Usually a half-finished edit, such as
// lvs.ha taken out or a service switched from NAT: a warning, so that it shows, not an error.

/** Warnings (`file:line:col: path: message`) for settings this inventory never uses. */
export function idleSettingWarnings(inventory: Pick<LoadedInventory, 'source' | 'data' | 'services'>): string[] {
  const warnings: string[] = [];
  const warn = (path: PathSegment[], message: string): void => void warnings.push(formatProblem(inventory.source.problem(path, message, true)));
  const { lvs } = inventory.data;
  if (lvs.ha === undefined) {
    for (const [name, vip] of Object.entries(lvs.vips)) {
      if (vip.virtual_router_id !== undefined) warn(['lvs', 'vips', name, 'virtual_router_id'], `VIP ${name}'s virtual_router_id is used only under lvs.ha (VRRP), which this inventory does not set; it is ignored`);
    }
  }
  if (lvs.ha?.gateway !== undefined && !inventory.services.some((service) => service.forwarding === 'nat'))
    warn(['lvs', 'ha', 'gateway'], 'lvs.ha.gateway is the NAT real servers\' floating gateway, and no service forwards by NAT: no director gets the gateway instance; it is ignored');
  return warnings;
}
