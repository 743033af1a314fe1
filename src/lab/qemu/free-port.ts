import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago (the caller retries if it is taken since). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the listening port'));
      });
    });
  });
}
