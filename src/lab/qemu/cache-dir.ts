// The cache path travels on the guest's kernel command line and is read by a busybox script, so
// it is restricted to characters that need no quoting anywhere.
const safePath = /^\/[A-Za-z0-9._\/+-]+$/;

export function assertSafePath(path: string, what: string): string {
  if (!safePath.test(path) || path.split('/').includes('..')) {
    throw new Error(`${what} must be an absolute path of letters, digits and ._/+- only: ${JSON.stringify(path)}`);
  }
  return path;
}
