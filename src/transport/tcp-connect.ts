import { connect, type Socket } from 'node:net';

// The TCP half of connecting, done before a host queues for a handshake slot: it is network
// only (a SYN and its answer), costs the control node nothing to wait for, and a host that never
// answers then waits out its timeout here instead of holding a slot that a live host could use.

/**
 * A connected socket, or an Error naming what went wrong within `timeoutMs`.
 *
 * With TCP_NODELAY (`noDelay`): SSH writes whole packets, and a login sends some back to back
 * (NEWKEYS and the service request). With Nagle's algorithm the second waits until the host
 * acknowledges the first, which a Linux host delays by up to 40 ms; sequential logins to one
 * sshd took 111 ms instead of 157 with it (docs/performance-log.md, 2026-12-03, night).
 */
export function tcpConnect(address: string, port: number, timeoutMs: number, interrupt?: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    if (interrupt?.aborted) {
      reject(new Error('interrupted before connecting'));
      return;
    }
    const socket = connect({ host: address, port, noDelay: true });
    const settle = (): void => {
      clearTimeout(timer);
      interrupt?.removeEventListener('abort', stop);
    };
    const timer = setTimeout(() => {
      settle();
      socket.destroy();
      reject(new Error(`Timed out while connecting (no TCP answer in ${Math.round(timeoutMs / 100) / 10} s)`));
    }, timeoutMs);
    // An interrupt gives the connect up at once, not at its timeout (up to 600 s).
    const stop = (): void => {
      settle();
      socket.destroy();
      reject(new Error('interrupted while connecting'));
    };
    interrupt?.addEventListener('abort', stop, { once: true });
    socket.once('connect', () => {
      settle();
      socket.removeListener('error', fail);
      resolve(socket);
    });
    const fail = (error: Error): void => {
      settle();
      socket.destroy();
      error.message = withoutLocalAddress(error.message);
      reject(error);
    };
    socket.once('error', fail);
  });
}

/**
 * node ends some connect errors with the local side of the socket (`connect ENETUNREACH
 * 198.51.100.9:22 - Local (0.0.0.0:0)`): before a connection there is none to speak of, so the
 * message stops at the address it tried.
 */
export function withoutLocalAddress(message: string): string {
  return message.replace(/ - Local \([^()]*\)$/, '');
}

/**
 * Watch a connected stream while it waits for its handshake slot: it may fail or close before
 * (the host's sshd gave up waiting), with no one else listening yet.
 */
export function watchWhileQueued(stream: NodeJS.ReadableStream & NodeJS.EventEmitter): { readonly lost: () => Error | undefined; readonly stop: () => void } {
  let lost: Error | undefined;
  const onError = (error: Error): void => {
    lost ??= error;
  };
  const onClose = (): void => {
    lost ??= new Error('Connection closed by the host before the handshake started');
  };
  stream.on('error', onError);
  stream.once('close', onClose);
  return {
    lost: () => lost,
    stop: () => {
      stream.removeListener('error', onError);
      stream.removeListener('close', onClose);
    },
  };
}
