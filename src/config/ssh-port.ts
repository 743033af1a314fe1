import type { HostEntry, Inventory } from './inventory-schema.js';
import { own } from './own.js';

/** Where a command knows more than the inventory: the port each host's connection resolves to, ssh_config's Port included. */
export interface ConnectPorts {
  readonly connectPort?: (host: string) => number | undefined;
}

/**
 * The port lvsprov reaches a host's sshd on, as the inventory says it: the host's ssh.port, else
 * the top-level one, else ssh's 22 (a Port set only in ~/.ssh/config is not read here). A daemon a
 * role starts cannot listen there beside sshd, and nothing may filter it.
 */
export function sshPortOf(data: Pick<Inventory, 'hosts' | 'ssh'>, host: string): number {
  const entry = own(data.hosts, host);
  return entry === undefined ? (data.ssh.port ?? 22) : entryPortOf(data, entry);
}

/** The port the run reaches a host's sshd on: as resolved with ssh_config where the command resolved it (and could), else as the inventory says. */
export function connectPortOf(inventory: ConnectPorts & { readonly data: Pick<Inventory, 'hosts' | 'ssh'> }, host: string): number {
  return inventory.connectPort?.(host) ?? sshPortOf(inventory.data, host);
}

/** sshPortOf for a host entry in hand. */
export function entryPortOf(data: Pick<Inventory, 'ssh'>, entry: Pick<HostEntry, 'ssh'>): number {
  return entry.ssh?.port ?? data.ssh.port ?? 22;
}
