import { rm } from 'node:fs/promises';
import { isRunning } from '../netns/processes.js';
import { attachGuest } from '../qemu/guest.js';
import { loadClusterState } from './state.js';

// `lvsprov lab down`: every lab host, namespace, mount and process lives inside the guest, so
// powering it off removes them all; then the SSH master, the guest's files and the lab dir go.

export interface LabDownResult {
  readonly dir: string;
  /** False when the dir held no lab (nothing to do). */
  readonly found: boolean;
  readonly qemuPid?: number;
}

export async function labDown(dir: string): Promise<LabDownResult> {
  const state = await loadClusterState(dir);
  // Without lab.json the dir is not ours to remove.
  if (!state) return { dir, found: false };
  await attachGuest(state.guest).stop();
  if (isRunning({ pid: state.guest.pid, startTime: state.guest.startTime })) throw new Error(`qemu (pid ${state.guest.pid}) still runs`);
  await rm(dir, { recursive: true, force: true });
  return { dir, found: true, qemuPid: state.guest.pid };
}
