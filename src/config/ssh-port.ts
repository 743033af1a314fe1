import type { Inventory } from './inventory-schema.js';
import { own } from './own.js';

/**
 * The port lvsprov reaches a host's sshd on, as the inventory says it: the host's ssh.port, else
 * the top-level one, else ssh's 22 (a Port set only in ~/.ssh/config is not read here). A daemon a
 * role starts cannot listen there beside sshd, and nothing may filter it.
 */
export function sshPortOf(data: Pick<Inventory, 'hosts' | 'ssh'>, host: string): number {
  return own(data.hosts, host)?.ssh?.port ?? data.ssh.port ?? 22;
}
