import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * A path from an inventory or ssh_config: `~` is the user's home (`home`: $HOME for an inventory, as
 * a shell reads it; ssh_config passes the passwd entry's, as ssh does), relative paths are relative to `base`.
 */
export function expandPath(path: string, base: string, home = homedir()): string {
  if (path === '~' || path.startsWith('~/')) return join(home, path.slice(1));
  return isAbsolute(path) ? path : resolve(base, path);
}
