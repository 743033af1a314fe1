import { systemDatabase } from '../system-database.js';

// ssh's tilde_expand (misc.c) for the paths it reads from its config: `~` and `~/path` are in the
// passwd entry's home, `~user` and `~user/path` in that user's (getpwnam), repeated slashes after
// the `~` part dropped. A user the password database lacks stops ssh ("No such user"). Node has no
// getpwnam: the users are read from /etc/passwd as glibc's files backend reads it
// (`name:password:uid:gid:gecos:home:shell`, the first entry for a name winning).

/** Each user's home in `text` (a passwd(5) file); the first entry for a name wins. */
export function passwdHomes(text: string): ReadonlyMap<string, string> {
  const found = new Map<string, string>();
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    const [name] = fields;
    if (fields.length < 7 || !name || name.startsWith('#') || found.has(name)) continue;
    found.set(name, fields[5] ?? '');
  }
  return found;
}

/** `user`'s home in the password database, undefined when it has no such user. */
export const passwdHome = (user: string, file = '/etc/passwd'): string | undefined => systemDatabase(file, passwdHomes).get(user);

/**
 * `path` as its `~` part expanded (`home`: '' where there is none) and the rest as written, or the
 * user the database lacks. The rest is kept apart so that a message about a token in it can point
 * at the line.
 */
export function sshTildeParts(path: string, home: string, homeOf: (user: string) => string | undefined = passwdHome): { readonly home: string; readonly rest: string } | { readonly unknownUser: string } {
  if (!path.startsWith('~')) return { home: '', rest: path };
  const slash = path.indexOf('/');
  const user = path.slice(1, slash === -1 ? undefined : slash);
  const rest = slash === -1 ? '' : path.slice(slash).replace(/^\/+/, '');
  const base = user === '' ? home : homeOf(user);
  if (base === undefined) return { unknownUser: user };
  return { home: base.endsWith('/') ? base : `${base}/`, rest };
}
