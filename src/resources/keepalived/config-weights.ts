import { realServerHead, virtualServerHead } from './config-text.js';
import type { KeepalivedVirtualServer } from './schema.js';

// The weights of a keepalived.conf as lvsprov writes it (config-text.ts), read back: what the
// running keepalived believes it set. On a reload keepalived 2.2.7 sets a real server that stays
// to its new config weight only where that differs from the weight it set itself last
// (clear_diff_rs keeps the old one as peffective_weight, init_service_rs compares), never from the
// kernel's: a weight changed by hand with ipvsadm -e is invisible to it.

type ServiceHead = Pick<KeepalivedVirtualServer, 'protocol' | 'fwmark' | 'address' | 'port'>;

/** A real server of a service, named as the config names both (the protocol line included). */
export function weightKey(server: ServiceHead, real: { readonly address: string; readonly port: number }): string {
  return [...virtualServerHead(server), server.protocol, '/', ...realServerHead(real)].join(' ');
}

/** Every real server's weight in `text`, by weightKey. */
export function configWeights(text: string): Map<string, number> {
  const weights = new Map<string, number>();
  let depth = 0;
  let head: string[] = [];
  let protocol = '';
  let real = '';
  let pending: Array<[string, number]> = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const words = line.split(/\s+/);
    if (line.endsWith('{')) {
      if (depth === 0 && words[0] === 'virtual_server') {
        head = words.slice(0, -1);
        // keepalived's default protocol is TCP; a firewall-mark service names none.
        protocol = head[1] === 'fwmark' ? 'fwmark' : 'tcp';
        pending = [];
      } else if (depth === 1 && head.length > 0 && words[0] === 'real_server') real = words.slice(0, -1).join(' ');
      depth++;
    } else if (line === '}') {
      depth--;
      if (depth === 1) real = '';
      if (depth === 0 && head.length > 0) {
        for (const [server, weight] of pending) weights.set([...head, protocol, '/', server].join(' '), weight);
        head = [];
      }
    } else if (depth === 1 && head.length > 0 && words[0] === 'protocol' && words[1] !== undefined) protocol = words[1].toLowerCase();
    else if (depth === 2 && real !== '' && words[0] === 'weight' && words[1] !== undefined) pending.push([real, Number(words[1])]);
  }
  return weights;
}
