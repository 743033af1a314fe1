import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where kernels and initramfs images are kept between runs: $LVSPROV_CACHE or ~/.cache/lvsprov. */
export function defaultCacheDir(): string {
  const fromEnv = process.env.LVSPROV_CACHE;
  return fromEnv ? resolve(fromEnv) : join(homedir(), '.cache', 'lvsprov');
}

// The cache path travels on the guest's kernel command line and is read by a busybox script, so
// it is restricted to characters that need no quoting anywhere.
const safePath = /^\/[A-Za-z0-9._\/+-]+$/;

export function assertSafePath(path: string, what: string): string {
  if (!safePath.test(path) || path.split('/').includes('..')) {
    throw new Error(`${what} must be an absolute path of letters, digits and ._/+- only: ${JSON.stringify(path)}`);
  }
  return path;
}
