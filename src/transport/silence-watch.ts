import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import type { ServerAlive } from './types.js';

// When a host counts as gone: nothing at all received from it for `intervalMs x (countMax + 1)`,
// as OpenSSH judges its ServerAlive messages. ssh2's own keepalive counts only the replies to its
// pings, and on a slow link those replies queue behind the data the host is sending (a read's
// output at a few kilobytes a second): a host busy answering would be given up. So ssh2 keeps
// sending the pings (a silent host's answers to them are what tells it is alive), and any byte
// that arrives is the host answering.
//
// Silence is counted only while this process was listening. Node runs due timers before it reads
// the sockets that became readable meanwhile, so after a long turn of the event loop (a control
// node busy with a thousand hosts, or starved of CPU) a timer would find a host silent whose
// answer is waiting unread in the kernel; and during such a stall ssh2 sent no ping either. A tick
// that comes late adds its delay to the host's credit, and a verdict of silence is checked again
// after the sockets have been read (setImmediate runs after node's poll for I/O).

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
  let lastTick = lastHeard;
  let stopped = false;
  const heard = (): void => {
    lastHeard = performance.now();
  };
  const silent = (): boolean => performance.now() - lastHeard >= limitMs;
  sock.on('data', heard);
  const timer = setInterval(() => {
    const now = performance.now();
    const late = now - lastTick - alive.intervalMs;
    lastTick = now;
    // The event loop was held up: that time was not the host's to answer in.
    if (late > alive.intervalMs / 2) lastHeard = Math.min(now, lastHeard + late);
    if (!silent()) return;
    setImmediate(() => {
      if (stopped || !silent()) return;
      stop();
      client.emit('error', Object.assign(new Error('Keepalive timeout'), { level: 'client-timeout' }));
      sock.destroy();
    });
  }, alive.intervalMs);
  // A run that is otherwise done does not wait for this timer.
  timer.unref();
  const stop = (): void => {
    stopped = true;
    clearInterval(timer);
    sock.off('data', heard);
  };
  client.once('close', stop);
}
