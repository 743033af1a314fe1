import { z } from 'zod';

// What another process needs to use or stop a running guest: `lvsprov lab up` boots it and
// exits, `lab down` (or a test) attaches later. Read back through a schema because its pid gets
// signals and its paths reach ssh's command line.

const port = z.number().int().min(1).max(65535);
const path = z.string().regex(/^\/[A-Za-z0-9._/+-]+$/, 'must be a plain absolute path');

export const guestStateSchema = z.strictObject({
  version: z.literal(1),
  workDir: path,
  /** qemu, identified by pid and start time (a pid alone may since belong to another process). */
  pid: z.number().int().positive(),
  startTime: z.number().int().nonnegative(),
  kernelRelease: z.string(),
  sshPort: port,
  labPort: port.optional(),
  /** The guest sshd's host key as `type blob`, for known_hosts files of other tools. */
  hostPublicKey: z.string().regex(/^ssh-[a-z0-9-]+ [A-Za-z0-9+/]+=*$/),
  consoleLog: path,
  /** The guest sshd's config; a lab's jump sshd runs with it too. */
  sshdConfig: path,
  endpoint: z.strictObject({
    host: z.literal('127.0.0.1'),
    port,
    user: z.literal('root'),
    clientKey: path,
    knownHosts: path,
    controlPath: path,
  }),
});

export type GuestState = z.infer<typeof guestStateSchema>;
