import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** A path from an inventory or ssh_config: `~` is the user's home, relative paths are relative to `base`. */
export function expandPath(path: string, base: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  return isAbsolute(path) ? path : resolve(base, path);
}
