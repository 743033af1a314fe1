import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { guestStateSchema } from '../qemu/guest-state.js';

// <lab dir>/lab.json: the guest and the hosts inside it, for `lab down`, for a rebuild by a later
// `lab up`, and for tests that check what lvsprov did by a path of their own (nsenter into a
// host's namespaces inside the guest). Saved as soon as the guest runs, so a failed `up` can be
// taken down.

const hostSchema = z.strictObject({
  name: z.string(),
  namespace: z.string().regex(/^[a-z][a-z0-9]{0,11}-[a-z0-9-]{1,40}$/),
  addresses: z.array(z.string()),
  /** The host's sshd inside the guest: its namespaces are the host. */
  sshdPid: z.number().int().positive(),
  publicKey: z.string(),
});

export const clusterStateSchema = z.strictObject({
  version: z.literal(1),
  name: z.string(),
  /** The inventory the lab was built from. */
  source: z.string(),
  guest: guestStateSchema,
  /** Absent while the guest runs without a lab (first boot, or a rebuild in progress). */
  lab: z
    .strictObject({
      /** The netns lab's work dir inside the guest (its `cli.js down` argument). */
      guestWorkDir: z.string(),
      controlNamespace: z.string(),
      router: z.string(),
      client: z.strictObject({ name: z.string(), addresses: z.array(z.string()), gateway: z.string() }),
      hosts: z.array(hostSchema),
      inventory: z.string(),
    })
    .optional(),
});

export type ClusterState = z.infer<typeof clusterStateSchema>;
export type ClusterHost = z.infer<typeof hostSchema>;

export function clusterStatePath(dir: string): string {
  return join(dir, 'lab.json');
}

export async function saveClusterState(dir: string, state: ClusterState): Promise<void> {
  const path = clusterStatePath(dir);
  await writeFile(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** The saved state, or undefined when the dir holds no lab. */
export async function loadClusterState(dir: string): Promise<ClusterState | undefined> {
  let text: string;
  try {
    text = await readFile(clusterStatePath(dir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return clusterStateSchema.parse(JSON.parse(text));
}
