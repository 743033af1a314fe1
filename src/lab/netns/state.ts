import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

// workDir/state.json: everything `down` needs to tear a lab down from another process (CI cleanup,
// a crashed test run). It is written before the first namespace exists and again whenever a
// process starts, so a crash at any point leaves a file that names what to remove. It is read
// back through a schema because its names end up in argv and its pids get signals.

const namespaceName = z.string().regex(/^[a-z][a-z0-9]{0,11}-[a-z0-9-]{1,40}$/);

const processSchema = z.strictObject({ pid: z.number().int().positive(), startTime: z.number().int().nonnegative() });

const hostStateSchema = z.strictObject({
  name: z.string(),
  namespace: namespaceName,
  interfaces: z.array(
    z.strictObject({
      subnet: z.string(),
      address: z.string(),
      prefixLength: z.number().int(),
      device: z.string(),
      peer: z.string(),
      bridge: z.string(),
    }),
  ),
  publicKey: z.string(),
  /** The host's sshd, in the namespaces that are the host; the process the lab started, unless the host boots systemd. */
  sshd: processSchema.optional(),
  /** `systemd`: the host's first process is systemd, which started its sshd. */
  init: z.literal('systemd').optional(),
  /** With init: systemd, that process (PID 1 of the host's PID namespace), which the lab started. */
  initProcess: processSchema.optional(),
  /** With init: systemd, the cgroup directories the lab made for the host, one per hierarchy; teardown removes them. */
  cgroups: z.array(z.string().regex(/^\/sys\/fs\/cgroup\/[A-Za-z0-9_.,=/-]+$/)).optional(),
  /**
   * Inode of the host's private mount namespace when it started, for reports and tests. Only valid
   * while the host runs: teardown reads it from the live sshd instead, as inodes are reused.
   */
  mountNamespace: z.number().int().optional(),
});

export const labStateSchema = z
  .strictObject({
    version: z.literal(1),
    name: z.string(),
    workDir: z.string(),
    controlNamespace: namespaceName,
    subnets: z.array(
      z.strictObject({ name: z.string(), cidr: z.string(), prefixLength: z.number().int(), controlAddress: z.string(), bridge: z.string() }),
    ),
    hosts: z.array(hostStateSchema),
    clientKeyPath: z.string(),
    knownHostsPath: z.string(),
    /** The machine's ARP table limits, when the lab had to raise them: `down` puts them back. */
    neighbourLimits: z
      .strictObject({
        original: z.strictObject({ gc_thresh2: z.number().int().positive(), gc_thresh3: z.number().int().positive() }),
        raised: z.strictObject({ gc_thresh2: z.number().int().positive(), gc_thresh3: z.number().int().positive() }),
      })
      .optional(),
    /** The process that started the lab: while it is `starting`, the lab is in use as long as this runs. */
    creator: processSchema.optional(),
    /** Started by `up` to be used by later processes; otherwise (tests, the bench) the lab lives as long as its creator. */
    outlivesCreator: z.boolean().optional(),
    /** `starting` until every sshd answered; a lab left in `starting` crashed half-way. */
    phase: z.enum(['starting', 'up']),
  })
  .refine((state) => [state.controlNamespace, ...state.hosts.map((host) => host.namespace)].every((ns) => ns.startsWith(`${state.name}-`)), {
    message: 'every namespace must carry the lab name as its prefix',
  });

export type LabState = z.infer<typeof labStateSchema>;
export type HostState = LabState['hosts'][number];

export function statePath(workDir: string): string {
  return join(workDir, 'state.json');
}

export async function saveState(state: LabState): Promise<void> {
  // Written aside and renamed, so a reader never sees half a file.
  const path = statePath(state.workDir);
  await writeFile(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

export async function loadState(workDir: string): Promise<LabState> {
  const text = await readFile(statePath(workDir), 'utf8');
  return labStateSchema.parse(JSON.parse(text));
}

export async function removeState(workDir: string): Promise<void> {
  await rm(statePath(workDir), { force: true });
}
