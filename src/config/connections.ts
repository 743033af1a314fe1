import type { ConnectionTarget } from '../transport/types.js';
import { resolveConnection, type ConnectionOptions } from './connection.js';
import type { LoadedInventory } from './inventory.js';

// Every host a command may contact, resolved before the first connection: a bad ssh_config value
// is a ConfigError (exit 4) with no host touched, and what ssh_config sets that lvsprov does not
// apply is known in time to be said on stderr, the same for every command that connects.

export interface ResolvedConnections {
  readonly targets: ReadonlyMap<string, ConnectionTarget>;
  /** ssh_config lines ssh would apply and lvsprov does not, each once, for stderr. */
  readonly notes: readonly string[];
}

export function resolveConnections(inventory: LoadedInventory, hosts: readonly string[], options: ConnectionOptions): ResolvedConnections {
  const resolved = hosts.map((host) => [host, resolveConnection(inventory, host, options)] as const);
  return { targets: new Map(resolved.map(([host, connection]) => [host, connection.target])), notes: [...new Set(resolved.flatMap(([, connection]) => connection.ignored))] };
}

/** How a command says each note on stderr before it connects. */
export const sshConfigNoteLine = (note: string): string => `ssh_config: ${note}`;
