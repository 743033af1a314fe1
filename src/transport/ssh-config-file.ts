import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

// Reading an ssh_config file as ssh does: a missing file is no config; one that cannot be read is
// an error at the file; and ~/.ssh/config (with what it includes) is refused when someone other
// than its owner could have written it, as ssh refuses it ("Bad owner or permissions"): it names
// the hosts, keys and known_hosts files a run trusts.

const problem = (file: string, message: string): ConfigError => new ConfigError([{ file, line: 1, col: 1, path: '', message }]);

/** Why ssh would refuse this file as a user's config, or undefined. Group-writable passes when the group is the user's own (Debian's ssh allows a private group). */
export function permissionProblem(info: { readonly uid: number; readonly gid: number; readonly mode: number }, uid: number, gid: number): string | undefined {
  if (info.uid !== 0 && info.uid !== uid) return `owned by uid ${info.uid}, neither you nor root`;
  if ((info.mode & 0o002) !== 0) return 'writable by everyone';
  if ((info.mode & 0o020) !== 0 && info.gid !== gid) return `writable by group ${info.gid}`;
  return undefined;
}

const checked = new Set<string>();

/** ~/.ssh/config and its Includes: a ConfigError when others could have written the file (checked once per file). */
export function checkSshConfigPermissions(file: string): void {
  if (checked.has(file)) return;
  let info;
  try {
    info = statSync(file, { throwIfNoEntry: false });
  } catch (error) {
    throw problem(file, `cannot read this ssh config file: ${(error as Error).message}`);
  }
  const why = info ? permissionProblem(info, process.getuid?.() ?? 0, process.getgid?.() ?? 0) : undefined;
  if (why !== undefined) throw problem(file, `bad owner or permissions (${why}); ssh refuses this file too: chmod go-w ${file}`);
  checked.add(file);
}

// Far above any real ssh config; the file is read whole, so a larger one is refused first.
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/**
 * The file's text, '' when it does not exist. `/dev/null` is the usual way to say "no config"
 * (`-F /dev/null`); any other device, FIFO or socket would be read forever or wait for a writer
 * (ssh -G -F /dev/zero never returns), so only regular files are read.
 */
export function readSshConfigText(file: string): string {
  try {
    if (file === '/dev/null') return '';
    const info = statSync(file, { throwIfNoEntry: false });
    // ssh reads a folder as an empty file: a folder named where a config file belongs is a mistake said here.
    if (info?.isDirectory()) throw problem(file, 'cannot read this ssh config file: it is a folder (ssh would read it as an empty file and use none of the settings meant); name the config file in it, or none to read none');
    if (info && !info.isFile()) throw problem(file, 'cannot read this ssh config file: it is not a regular file (a device, FIFO or socket); name a file, or /dev/null for none');
    if (info && info.size > MAX_CONFIG_BYTES) throw problem(file, `cannot read this ssh config file: ${info.size} bytes, more than the ${MAX_CONFIG_BYTES} an ssh config is read up to`);
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw problem(file, `cannot read this ssh config file: ${(error as Error).message}`);
  }
}

/** One path component of a glob(3) pattern: `*`, `?` and `[...]`, case-sensitive, within the component. */
function componentPattern(pattern: string): RegExp {
  let body = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] as string;
    const close = char === '[' ? pattern.indexOf(']', i + 2) : -1;
    if (char === '*') body += '[^/]*';
    else if (char === '?') body += '[^/]';
    else if (close > 0) {
      const inside = pattern.slice(i + 1, close);
      body += `[${inside.startsWith('!') ? `^${inside.slice(1)}` : inside.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else body += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${body}$`);
}

/**
 * The files an Include pattern (an absolute path) names, as ssh's glob(3) finds them: wildcards in
 * any component, case-sensitive, a leading dot matched only by a dot (an editor's `.corp.conf.swp`
 * beside `corp.conf` is not read), sorted.
 */
export function globFiles(path: string): string[] {
  let found = ['/'];
  for (const part of path.split('/').filter(Boolean)) {
    if (!/[*?[]/.test(part)) {
      found = found.map((dir) => join(dir, part));
      continue;
    }
    const pattern = componentPattern(part);
    found = found.flatMap((dir) => {
      try {
        return readdirSync(dir)
          .filter((name) => (part.startsWith('.') || !name.startsWith('.')) && pattern.test(name))
          .map((name) => join(dir, name));
      } catch {
        return [];
      }
    });
  }
  return found.filter((file) => existsSync(file)).sort();
}
