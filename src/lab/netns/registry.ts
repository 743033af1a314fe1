import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRunning } from './processes.js';
import { loadState, statePath, type LabState } from './state.js';

// A run that is killed (a CI job stopped half-way, a test runner that lost its machine) leaves a
// lab's named namespaces and its state.json behind, and the next lab of that name would find its
// names taken. Every lab therefore records its work directory under its name here, in /run like
// /run/netns itself, so both go at a reboot. A new lab of the same name finds the old one's state
// through it and, once nothing of the old lab runs any more, tears it down the way `down` would.

const registryDir = '/run/lvsprov-lab';

function entryPath(name: string): string {
  return join(registryDir, name);
}

export async function registerLab(state: LabState): Promise<void> {
  await mkdir(registryDir, { recursive: true, mode: 0o700 });
  const path = entryPath(state.name);
  await writeFile(`${path}.tmp`, `${state.workDir}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Forget a lab that is gone, unless its name already points at a newer lab's directory. */
export async function unregisterLab(state: LabState): Promise<void> {
  if ((await registeredWorkDir(state.name)) === state.workDir) await rm(entryPath(state.name), { force: true });
}

async function registeredWorkDir(name: string): Promise<string | undefined> {
  const text = await readFile(entryPath(name), 'utf8').catch(() => undefined);
  return text?.trim() || undefined;
}

/**
 * The state of every earlier lab a new one would collide with: one left in its own work directory,
 * and the one registered under its name, wherever it lives. A registered directory whose state is
 * gone or unreadable no longer holds that lab (the namespace check still guards the names); an
 * unreadable state in the new lab's own directory is an error, as the lab would overwrite it.
 */
export async function earlierLabs(name: string, workDir: string): Promise<LabState[]> {
  const own = await loadState(workDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new Error(`${statePath(workDir)} exists and does not read as a lab's state (${error.message}); remove it first`, { cause: error });
  });
  const registered = await registeredWorkDir(name);
  const other = registered && registered !== workDir ? await loadState(registered).catch(() => undefined) : undefined;
  return [own, other].filter((state) => state !== undefined);
}

/**
 * Nobody can use the lab any more: none of its sshds runs, or the process that started it is gone
 * (a test run, the bench) and the lab was not one `up` started for later processes. A lab still
 * starting is in use while the process starting it runs.
 */
export function isAbandoned(state: LabState): boolean {
  const creatorGone = state.creator !== undefined && !isRunning(state.creator);
  if (state.phase === 'starting') return creatorGone;
  if (creatorGone && !state.outlivesCreator) return true;
  return !state.hosts.some((host) => host.sshd !== undefined && isRunning(host.sshd));
}
