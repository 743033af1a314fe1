import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { loadInventory } from '../../config/inventory.js';
import { UsageError } from '../../errors.js';
import { isRunning } from '../netns/processes.js';
import { assertSafePath } from '../qemu/cache-dir.js';
import { attachGuest, bootGuest, type GuestHandle } from '../qemu/guest.js';
import { buildGuestLab, destroyGuestLab, guestLabDir } from './guest-lab.js';
import { requirePrerequisites } from './prerequisites.js';
import { writeLabFiles } from './lab-files.js';
import { loadClusterState, saveClusterState, type ClusterState } from './state.js';
import { clusterTopology } from './topology.js';

// `lvsprov lab up`: the inventory's cluster as namespace hosts inside one real-kernel guest. A lab
// that is already up keeps its guest (a boot costs minutes under load) and gets its hosts rebuilt
// from scratch, so every `up` leaves fresh hosts.

export interface LabUpOptions {
  readonly inventoryFile: string;
  readonly name?: string;
  /** Default .lab/<name> under the current directory. */
  readonly dir?: string;
  /** Seconds each host's sshd may take to answer once started (default 300: TCG under load). */
  readonly readyTimeoutS?: number;
  readonly bootTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface LabUpResult {
  readonly name: string;
  readonly dir: string;
  /** The ready inventory to hand to `lvsprov apply -i`. */
  readonly inventory: string;
  readonly state: ClusterState;
  readonly reusedGuest: boolean;
  readonly timings: { readonly bootMs?: number; readonly buildMs: number; readonly totalMs: number };
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function labName(inventoryFile: string, inventoryName: string | undefined, wanted: string | undefined): string {
  const name = wanted ?? inventoryName ?? basename(inventoryFile, extname(inventoryFile));
  if (!namePattern.test(name)) throw new UsageError(`lab name ${JSON.stringify(name)}: use letters, digits, _ . - (at most 63, starting with a letter or digit)`);
  return name;
}

export function defaultLabDir(name: string): string {
  return resolve('.lab', name);
}

/** The running guest of an earlier `up` in `dir`, if it still runs and answers. */
async function reusableGuest(previous: ClusterState | undefined): Promise<GuestHandle | undefined> {
  if (!previous || previous.guest.labPort === undefined) return undefined;
  if (!isRunning({ pid: previous.guest.pid, startTime: previous.guest.startTime })) return undefined;
  const guest = attachGuest(previous.guest);
  const alive = await guest.run(['true'], { timeoutMs: 120_000 });
  return alive.code === 0 ? guest : undefined;
}

export async function labUp(options: LabUpOptions): Promise<LabUpResult> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const sourceFile = resolve(options.inventoryFile);
  // Config problems (addresses outside the lab ranges among them) stop here, before any boot.
  const inventory = loadInventory(sourceFile);
  const topology = clusterTopology(inventory);
  requirePrerequisites();
  const name = labName(sourceFile, inventory.data.name, options.name);
  const dir = assertSafePath(resolve(options.dir ?? defaultLabDir(name)), 'the lab dir');

  const previous = await loadClusterState(dir);
  if (!previous && existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new Error(`${dir} exists and holds no lab (no lab.json); choose another --dir or remove it`);
  }
  let guest = await reusableGuest(previous);
  const reusedGuest = guest !== undefined;
  let bootMs: number | undefined;
  if (guest && previous) {
    // Also after an `up` that failed half-way: whatever it left inside the guest goes.
    log(previous.lab ? `rebuilding the hosts of lab ${name} in its running guest` : 'clearing the running guest of an interrupted lab up');
    await saveClusterState(dir, { ...previous, lab: undefined });
    const teardownStarted = Date.now();
    await destroyGuestLab(guest);
    log(`old hosts removed in ${((Date.now() - teardownStarted) / 1000).toFixed(1)} s`);
  } else {
    if (previous) {
      log(`the guest of the earlier lab in ${dir} is gone or unresponsive; cleaning up`);
      await attachGuest(previous.guest).stop();
    }
    await rm(dir, { recursive: true, force: true });
    const bootStarted = Date.now();
    const booted = await bootGuest({
      workDir: join(dir, 'guest'),
      detached: true,
      labNic: true,
      log,
      ...(options.bootTimeoutMs !== undefined ? { bootTimeoutMs: options.bootTimeoutMs } : {}),
    });
    bootMs = Date.now() - bootStarted;
    guest = booted;
  }
  const running = guest;
  const base: ClusterState = { version: 1, name, source: sourceFile, guest: running.state };
  await saveClusterState(dir, base);

  try {
    const buildStarted = Date.now();
    log(`building ${topology.spec.hosts.length} hosts inside the guest`);
    const built = await buildGuestLab(running, topology, { readyTimeoutS: options.readyTimeoutS ?? 300, log });
    const buildMs = Date.now() - buildStarted;

    const inventoryFile = await writeLabFiles(dir, sourceFile, running.state, built, { name: topology.client.name, address: topology.client.addresses[0] as string });
    const state: ClusterState = {
      ...base,
      lab: {
        guestWorkDir: guestLabDir,
        controlNamespace: built.controlNamespace,
        router: topology.router,
        client: { name: topology.client.name, addresses: [...topology.client.addresses], gateway: topology.client.gateway },
        hosts: [...built.hosts],
        inventory: inventoryFile,
      },
    };
    await saveClusterState(dir, state);
    return { name, dir, inventory: inventoryFile, state, reusedGuest, timings: { ...(bootMs !== undefined ? { bootMs } : {}), buildMs, totalMs: Date.now() - started } };
  } catch (error) {
    // A guest this call booted goes with the failure; a reused one stays for the next `up`.
    if (!reusedGuest) {
      await running.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
    throw error;
  }
}
