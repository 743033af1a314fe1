import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import type { ServerAlive } from './types.js';

// When a host counts as gone: nothing at all received from it for `intervalMs x (countMax + 1)`,
// as OpenSSH judges its ServerAlive messages. ssh2's own keepalive counts only the replies to its
// pings, and on a slow link those replies queue behind the data the host is sending (a read's
// output at a few kilobytes a second): a host busy answering would be given up. So ssh2 keeps
// sending the pings (a silent host's answers to them are what tells it is alive), and any byte
// that arrives is the host answering.

/** ssh2's keepalive settings that send a ping every interval but never give up by themselves. */
export function keepalivePings(alive: ServerAlive): { keepaliveInterval: number; keepaliveCountMax: number } {
  return { keepaliveInterval: alive.intervalMs, keepaliveCountMax: Number.MAX_SAFE_INTEGER };
}

/**
 * Watch a logged-in connection: once `sock` (the TCP socket, or the channel through a jump host)
 * has been silent too long, the client errs as ssh2's keepalive timeout does (level
 * `client-timeout`) and the connection is closed.
 */
export function watchSilence(client: Client, sock: Duplex, alive: ServerAlive): void {
  if (alive.intervalMs <= 0) return;
  const limitMs = alive.intervalMs * (alive.countMax + 1);
  let lastHeard = performance.now();
  const heard = (): void => {
    lastHeard = performance.now();
  };
  sock.on('data', heard);
  const timer = setInterval(() => {
    if (performance.now() - lastHeard < limitMs) return;
    stop();
    client.emit('error', Object.assign(new Error('Keepalive timeout'), { level: 'client-timeout' }));
    sock.destroy();
  }, alive.intervalMs);
  // A run that is otherwise done does not wait for this timer.
  timer.unref();
  const stop = (): void => {
    clearInterval(timer);
    sock.off('data', heard);
  };
  client.once('close', stop);
}
