import type { HostEntry, Inventory } from './inventory-schema.js';
import { own } from './own.js';

/**
 * The port lvsprov reaches a host's sshd on, as the inventory says it: the host's ssh.port, else
 * the top-level one, else ssh's 22 (a Port set only in ~/.ssh/config is not read here). A daemon a
 * role starts cannot listen there beside sshd, and nothing may filter it.
 */
export function sshPortOf(data: Pick<Inventory, 'hosts' | 'ssh'>, host: string): number {
  const entry = own(data.hosts, host);
  return entry === undefined ? (data.ssh.port ?? 22) : entryPortOf(data, entry);
}

/** sshPortOf for a host entry in hand. */
export function entryPortOf(data: Pick<Inventory, 'ssh'>, entry: Pick<HostEntry, 'ssh'>): number {
  return entry.ssh?.port ?? data.ssh.port ?? 22;
}
