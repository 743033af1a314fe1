import type { ServerAlive } from './types.js';

// How long a silent host is waited for. OpenSSH sends no keepalive unless told to (its
// ServerAliveInterval is 0), so a host that vanishes mid-run would hold the run for as long as TCP
// retransmits, a quarter of an hour. lvsprov asks every 10 s and gives the host up once nothing
// has come from it for 40 s (watchSilence): long enough that a loaded control node, jump host or emulated lab (a stall of a
// dozen seconds) does not cut a live apply in half, short enough that a dead host does not hold
// its wave for minutes. ServerAliveInterval and ServerAliveCountMax in ssh_config, or the
// inventory's ssh.server_alive_interval and ssh.server_alive_count_max, set them per host.

export const serverAliveDefaults: ServerAlive = { intervalMs: 10_000, countMax: 3 };

/** Why a host was given up: how long nothing came from it. */
export function silenceText(alive: ServerAlive): string {
  return `no answer for ${(alive.intervalMs * (alive.countMax + 1)) / 1000} s`;
}
