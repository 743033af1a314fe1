import { command } from '../../shell/quote.js';
import { selector, type RealServer, type VirtualService } from './model.js';
import { realServerOptions } from './rules-format.js';

/**
 * The ipvsadm edit that quiesces a real server: weight 0, so the scheduler sends it no new
 * connection while those it has run on (the drain), its forwarding and tunnel options kept.
 */
export function quiesceCommand(service: VirtualService, server: RealServer): string {
  return command('ipvsadm', '-e', ...selector(service), ...realServerOptions({ ...server, weight: 0 }));
}
