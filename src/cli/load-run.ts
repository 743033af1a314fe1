import { statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { compile, type CompiledRun, type TagSelection } from '../config/compile.js';
import { connectionResolver, resolveConnections } from '../config/connections.js';
import { sessionPortOnResolvedSsh } from '../config/sessions-model.js';
import { loadInventory, type LoadedInventory } from '../config/inventory.js';
import { expandPath } from '../config/local-path.js';
import { packageRoot } from '../config/roles.js';
import { STANDARD_INPUT } from '../config/yaml-text.js';
import { ConfigError, UsageError, type ConfigProblem } from '../errors.js';
import type { ConnectionTarget } from '../transport/types.js';

// Everything that happens before the first connection: load, validate, compile. Any problem here
// throws a ConfigError and no host has been touched.

export interface PreparedRun {
  readonly inventory: LoadedInventory;
  readonly playbook: string;
  readonly run: CompiledRun;
  readonly targets: ReadonlyMap<string, ConnectionTarget>;
  /**
   * How to reach a host: one of `targets`, or a host of the inventory no play reaches, resolved
   * when the run opens it to stop a dropped VRRP peer's keepalived (engine/retire-peers.ts).
   */
  readonly targetOf: (host: string) => ConnectionTarget | undefined;
  /** ssh_config lines ssh would apply and lvsprov does not (each once), for stderr. */
  readonly sshNotes: readonly string[];
}

export interface RunSources {
  readonly inventory: string;
  readonly playbook?: string | undefined;
  readonly limit?: readonly string[] | undefined;
  readonly tags?: TagSelection | undefined;
  /** --roles-path: searched before the inventory's roles_path. */
  readonly rolesPath?: readonly string[] | undefined;
  /** -F: the ssh_config file (or `none`) instead of the inventory's ssh.config_file or ~/.ssh/config. */
  readonly sshConfig?: string | undefined;
  /** The command connects next: files it will need (private keys) must exist. */
  readonly connecting?: boolean;
}

export const shippedPlaybook = join(packageRoot, 'playbooks/site.yaml');

/**
 * -p, else the inventory's `playbook`, else the site playbook lvsprov ships. A playbooks/ folder in
 * the current directory is not looked at: an unrelated project's playbook must never replace it.
 */
export function playbookFor(inventory: LoadedInventory, flag: string | undefined): string {
  if (flag) return flag;
  if (!inventory.data.playbook) return shippedPlaybook;
  const path = expandPath(inventory.data.playbook, inventory.dir);
  // Said at the inventory's line: the file that is not there has no line to point at.
  if (!isFile(path)) throw new ConfigError([inventory.source.problem(['playbook'], `${path} is not a file (playbook is relative to the inventory's folder, ${inventory.dir})`)]);
  return path;
}

/**
 * --roles-path folders, then the inventory's roles_path. A folder that is not there is refused: a
 * typo would otherwise fall through to a role of the same name further down the search path (the
 * shipped one) and apply it in place of the operator's own.
 */
export function rolesPathFor(inventory: LoadedInventory, flag: readonly string[] = []): string[] {
  const fromFlag = flag.map((dir) => {
    const path = expandPath(dir, process.cwd());
    if (!isDirectory(path)) throw new UsageError(`--roles-path ${dir}: ${path} is not a folder`);
    return path;
  });
  const problems: ConfigProblem[] = [];
  const fromInventory = (inventory.data.roles_path ?? []).map((dir, index) => {
    const path = expandPath(dir, inventory.dir);
    if (!isDirectory(path)) problems.push(inventory.source.problem(['roles_path', index], `${path} is not a folder (roles_path is relative to the inventory's folder, ${inventory.dir})`));
    return path;
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return [...fromFlag, ...fromInventory];
}

function isDirectory(path: string): boolean {
  return statOf(path)?.isDirectory() ?? false;
}

function isFile(path: string): boolean {
  return statOf(path)?.isFile() ?? false;
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

export function prepareRun(sources: RunSources): PreparedRun {
  if (sources.inventory === STANDARD_INPUT && sources.playbook === STANDARD_INPUT) throw new UsageError('-i - and -p - would both read standard input: give one of them as a file');
  const loaded = loadInventory(sources.inventory);
  const playbook = playbookFor(loaded, sources.playbook);
  const connections = connectionResolver(loaded, { sshConfigFile: sources.sshConfig, requireKeyFiles: sources.connecting ?? false });
  // The checks that compare a port with the one the run logs in on see ssh_config's Port too.
  const inventory: LoadedInventory = { ...loaded, connectPort: connections.port };
  const run = compile(inventory, playbook, sources.limit, sources.tags, rolesPathFor(inventory, sources.rolesPath));
  const { targets, notes } = resolveConnections(inventory, [...run.hosts.keys()], {}, connections.resolve);
  const sessionClash = sessionPortOnResolvedSsh(inventory, (host) => run.hosts.has(host));
  if (sessionClash.length > 0) throw new ConfigError(sessionClash);
  const targetOf = (host: string): ConnectionTarget | undefined =>
    targets.get(host) ?? (run.unplayed?.has(host) ? resolveConnections(inventory, [host], { sshConfigFile: sources.sshConfig, requireKeyFiles: true }).targets.get(host) : undefined);
  return { inventory, playbook, run, targets, targetOf, sshNotes: notes };
}
