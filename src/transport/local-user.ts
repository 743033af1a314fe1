import { homedir, userInfo } from 'node:os';

// This process's user from the password database: its name (ssh_config's %u, the default login)
// and its home directory, which ssh(1) takes for ~/.ssh/config, `~/` and %d whatever $HOME says
// (HOME=/elsewhere ssh -G: the passwd entry's home). userInfo() reads /etc/passwd on every call:
// once per process instead of once per host (a thousand-host run spent 0.18 s on it before its
// first connection).

let cached: { readonly username: string; readonly homedir: string } | null | undefined;

function passwdEntry(): { readonly username: string; readonly homedir: string } | undefined {
  if (cached === undefined) {
    try {
      cached = userInfo();
    } catch {
      cached = null;
    }
  }
  return cached ?? undefined;
}

/** The user name of this process, or undefined when the password database has no entry for it. */
export function systemUserName(): string | undefined {
  return passwdEntry()?.username;
}

/** The home directory ssh uses: the password database's, else (no entry, where ssh itself stops) $HOME. */
export function sshHomeDir(): string {
  return passwdEntry()?.homedir || homedir();
}
