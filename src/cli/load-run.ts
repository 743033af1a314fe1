import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compile, type CompiledRun, type TagSelection } from '../config/compile.js';
import { connectionTarget } from '../config/connection.js';
import { loadInventory, type LoadedInventory } from '../config/inventory.js';
import { packageRoot } from '../config/roles.js';
import type { ConnectionTarget } from '../transport/types.js';

// Everything that happens before the first connection: load, validate, compile. Any problem here
// throws a ConfigError and no host has been touched.

export interface PreparedRun {
  readonly inventory: LoadedInventory;
  readonly playbook: string;
  readonly run: CompiledRun;
  readonly targets: ReadonlyMap<string, ConnectionTarget>;
}

export function defaultPlaybook(): string {
  const local = 'playbooks/site.yaml';
  return existsSync(local) ? local : join(packageRoot, local);
}

export function prepareRun(inventoryFile: string, playbookFile: string | undefined, limit?: readonly string[], tags?: TagSelection): PreparedRun {
  const inventory = loadInventory(inventoryFile);
  const playbook = playbookFile ?? defaultPlaybook();
  const run = compile(inventory, playbook, limit, tags);
  const targets = new Map([...run.hosts.keys()].map((host) => [host, connectionTarget(inventory, host)]));
  return { inventory, playbook, run, targets };
}
