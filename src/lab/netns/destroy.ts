import { run } from './process.js';
import { namespacesBatch } from './ip-batch.js';
import { restoreLimits } from './neighbour-table.js';
import { unregisterLab } from './registry.js';
import { commandName, isRunning, namedNetnsInode, processNamespace, processesInNamespaces, sendSignal, terminate, waitGone, type ProcessIdentity } from './processes.js';
import { removeCgroupTrees } from './cgroups.js';
import { removeState, type LabState } from './state.js';

export interface DestroyReport {
  /** Every process stopped: the sshds the lab started, and whatever still ran inside its namespaces. */
  readonly stopped: ReadonlyArray<{ readonly pid: number; readonly command: string; readonly startedByLab: boolean }>;
  readonly deletedNamespaces: readonly string[];
  /** Namespaces or processes that could not be removed; empty after a clean teardown. */
  readonly leftovers: readonly string[];
}

/**
 * Tear a lab down from its state alone, so it works for a lab another process started and for one
 * that crashed half-way. Besides the sshds it started, it stops every process living in one of the
 * lab's own namespaces: SSH sessions, daemons a playbook started on a host, an ssh ControlPersist
 * master in the control namespace. Any of those would otherwise keep a namespace (and a host's
 * mounts) alive after `ip netns delete`. Processes are found by namespace inode, never by name.
 */
export async function destroyLab(state: LabState): Promise<DestroyReport> {
  const namespaces = [state.controlNamespace, ...state.hosts.map((host) => host.namespace)];
  const stopped: Array<{ pid: number; command: string; startedByLab: boolean }> = [];
  // A host that boots systemd goes at once: PID 1 of its PID namespace killed takes every process
  // of that namespace with it, and SIGTERM would only make systemd re-execute itself.
  const inits = state.hosts.map((host) => host.initProcess).filter((init) => init !== undefined && isRunning(init)) as ProcessIdentity[];
  for (const init of inits) {
    stopped.push({ pid: init.pid, command: commandName(init.pid), startedByLab: true });
    try {
      sendSignal(init, 'SIGKILL');
    } catch {
      // Gone between the check and the signal.
    }
  }
  await waitGone(inits, 5000);
  const netInodes = new Set(namespaces.map(namedNetnsInode).filter((inode) => inode !== undefined));
  const started = state.hosts.map((host) => host.sshd).filter((sshd) => sshd !== undefined && isRunning(sshd)) as ProcessIdentity[];
  // Mount namespaces are read from the running sshds, never taken from state.json: once a host is
  // gone, its namespace inode number can be reused by an unrelated process (every `ip -n` makes a
  // mount namespace), and a second teardown would then stop that stranger.
  const mntInodes = new Set(started.map((sshd) => processNamespace(sshd.pid, 'mnt')).filter((inode) => inode !== undefined));
  const startedPids = new Set(started.map((sshd) => sshd.pid));
  // A `down` run from inside the control namespace must not stop itself or the shell that ran it.
  const spared = new Set([process.pid, process.ppid]);
  const inside = (): ProcessIdentity[] => processesInNamespaces(netInodes, mntInodes).filter((found) => !spared.has(found.pid));

  // The started sshds are inside too, unless their namespace name is already gone (a `down` that
  // crashed half-way), hence both lists, without repeats.
  let targets = [...new Map([...started, ...inside()].map((target) => [target.pid, target])).values()];
  // Two rounds: a session can fork while the first round is being stopped.
  for (let round = 0; round < 2 && targets.length > 0; round++) {
    for (const target of targets) stopped.push({ pid: target.pid, command: commandName(target.pid), startedByLab: startedPids.has(target.pid) });
    await terminate(targets);
    targets = inside();
  }
  const leftovers = targets.map((target) => `process ${target.pid} (${commandName(target.pid)})`);
  if (targets.length === 0) leftovers.push(...(await removeCgroupTrees(state.hosts.flatMap((host) => host.cgroups ?? []))));

  const existing = namespaces.filter((namespace) => namedNetnsInode(namespace) !== undefined);
  if (existing.length > 0) {
    // -force: one namespace that cannot be deleted must not stop the others from going.
    await run(['ip', '-force', '-batch', '-'], { input: namespacesBatch('delete', existing) });
  }
  leftovers.push(...namespaces.filter((namespace) => namedNetnsInode(namespace) !== undefined).map((namespace) => `namespace ${namespace}`));
  if (state.neighbourLimits && !leftovers.some((leftover) => leftover.startsWith('namespace '))) await restoreLimits(state.neighbourLimits);
  if (leftovers.length === 0) {
    await removeState(state.workDir);
    await unregisterLab(state);
  }
  return { stopped, deletedNamespaces: existing.filter((namespace) => namedNetnsInode(namespace) === undefined), leftovers };
}
