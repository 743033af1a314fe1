import type { ConnectionTarget } from '../transport/types.js';
import { resolveConnection, type ConnectionOptions, type ResolvedConnection } from './connection.js';
import type { LoadedInventory } from './inventory.js';

// Every host a command may contact, resolved before the first connection: a bad ssh_config value
// is a ConfigError (exit 4) with no host touched, and what ssh_config sets that lvsprov does not
// apply is known in time to be said on stderr, the same for every command that connects.

export interface ResolvedConnections {
  readonly targets: ReadonlyMap<string, ConnectionTarget>;
  /** ssh_config lines ssh would apply and lvsprov does not, each once, for stderr. */
  readonly notes: readonly string[];
}

export function resolveConnections(inventory: LoadedInventory, hosts: readonly string[], options: ConnectionOptions, resolve: (host: string) => ResolvedConnection = (host) => resolveConnection(inventory, host, options)): ResolvedConnections {
  const resolved = hosts.map((host) => [host, resolve(host)] as const);
  return { targets: new Map(resolved.map(([host, connection]) => [host, connection.target])), notes: [...new Set(resolved.flatMap(([, connection]) => connection.ignored))] };
}

/** How a command says each note on stderr before it connects. */
export const sshConfigNoteLine = (note: string): string => `ssh_config: ${note}`;

/**
 * resolveConnection, once per host: compile asks a host's port (its checks compare ports with it)
 * before the run resolves every connection, and a host's problem is thrown when the run asks for
 * it, not by the port's question (which then takes the inventory's port).
 */
export function connectionResolver(inventory: LoadedInventory, options: ConnectionOptions): { resolve: (host: string) => ResolvedConnection; port: (host: string) => number | undefined } {
  const memo = new Map<string, ResolvedConnection | { readonly error: unknown }>();
  const settle = (host: string): ResolvedConnection | { readonly error: unknown } => {
    let found = memo.get(host);
    if (found === undefined) {
      try {
        found = resolveConnection(inventory, host, options);
      } catch (error) {
        found = { error };
      }
      memo.set(host, found);
    }
    return found;
  };
  return {
    resolve(host) {
      const found = settle(host);
      if ('error' in found) throw found.error;
      return found;
    },
    port(host) {
      const found = settle(host);
      return 'error' in found ? undefined : found.target.port;
    },
  };
}
