import { readFileSync, statSync } from 'node:fs';

// A key file is a few kilobytes. `private_key: /dev/zero` (or a FIFO, or a huge file named by
// mistake) would be read until memory runs out, stalling every host of the run: only a regular
// file of a sane size is read.
const MAX_KEY_BYTES = 1024 * 1024;

/** The bytes of a private or public key file; throws (with the reason) for anything else. */
export function readKeyFile(path: string): Buffer {
  const info = statSync(path);
  if (!info.isFile()) throw new Error('not a regular file (a device, FIFO or folder)');
  if (info.size > MAX_KEY_BYTES) throw new Error(`${info.size} bytes, far more than a key file holds`);
  return readFileSync(path);
}
