import { userInfo } from 'node:os';

// This process's user name (ssh_config's %u, the default login), from the password database.
// userInfo() reads /etc/passwd on every call: once per process instead of once per host (a
// thousand-host run spent 0.18 s on it before its first connection).

let cached: string | null | undefined;

/** The user name of this process, or undefined when the password database has no entry for it. */
export function systemUserName(): string | undefined {
  if (cached === undefined) {
    try {
      cached = userInfo().username;
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}
