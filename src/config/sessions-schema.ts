import { z } from 'zod';
import { hostName } from './values.js';

// `lvs.sessions`: where the real servers keep their users' sessions. With a scheduler that spreads
// a user's requests over every real server (rr, wlc, no persistence), a session kept on one
// server's disk is lost on the next request; memcached on a few hosts holds them for all. Every
// value here reaches memcached's command line, nftables and PHP's ini files, so each is a number
// or an inventory host name.

export const sessionsSchema = z
  .object({
    store: z.enum(['memcached']).default('memcached').describe('the session store: memcached (PHP reads and writes it through php-memcached)'),
    hosts: z
      .array(hostName)
      .min(1)
      .optional()
      .describe('hosts that run memcached, bound to their own address (default: every real server of the services)'),
    // Debian's memcached runs as the user memcache and binds after it becomes that user: a port
    // below 1024 fails its start with "bind(): Permission denied".
    port: z.number().int().min(1024).max(65535).default(11211).describe("memcached's TCP port, 1024 or above (memcached binds it as the user memcache); only the real servers may connect to it"),
    memory_mb: z.number().int().min(8).max(1_048_576).default(64).describe('memory each memcached keeps for sessions, in MiB (memcached -m)'),
    // memcached -c is its limit of open files too, of which its listeners and four threads take
    // 25: below 26 it does not start or accepts no one (memcached 1.6.18).
    max_connections: z
      .number()
      .int()
      .min(64)
      .max(1_000_000)
      .default(1024)
      .describe('open connections and files each memcached allows (memcached -c); it keeps 25 for itself, so it accepts 25 fewer clients at once'),
    replicas: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .optional()
      .describe('further copies of each session on other hosts (default: one on each other host, so that one host down loses none; fewer lose some while a host is down when there are three or more)'),
  })
  .strict();

export type SessionsSettings = z.output<typeof sessionsSchema>;
