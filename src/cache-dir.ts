import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Where lvsprov keeps what it can make again but would rather not on every run (V8's compiled code
 * of the CLI, the lab's kernels and initramfs images): $LVSPROV_CACHE or ~/.cache/lvsprov. The
 * bin reads it before the bundle loads, so this file stays free of anything else.
 */
export function defaultCacheDir(): string {
  const fromEnv = process.env.LVSPROV_CACHE;
  return fromEnv ? resolve(fromEnv) : join(homedir(), '.cache', 'lvsprov');
}
