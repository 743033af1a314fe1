import { command, quote } from '../shell/quote.js';

// What sysvinit starts at boot is the S links of an init script in the runlevel directories;
// service, at_boot and keepalived read them the same way, each in the directories its scripts
// are linked to, and link them with update-rc.d the same way.

/**
 * The multi-user runlevels' link directories: Debian keeps them in /etc/rcN.d, RHEL in
 * /etc/rc.d/rcN.d; an S link in any of them means a service starts at boot.
 */
export const RUNLEVEL_LINK_DIRS: readonly string[] = ['/etc/rc[2345].d', '/etc/rc.d/rc[2345].d'];

/** Shell that sets `e` to `enabled` when `name` has a start link (S<NN><name>) in one of `dirs`, else `disabled`. */
function startLinkTest(dirs: readonly string[], name: string): string {
  const links = dirs.map((dir) => `${dir}/S[0-9][0-9]${quote(name)}`).join(' ');
  return `e=disabled; for f in ${links}; do if [ -e "$f" ]; then e=enabled; fi; done`;
}

/** Shell that prints `E enabled` when `name` has a start link (S<NN><name>) in one of `dirs`, else `E disabled`. */
export function startLinkProbe(dirs: readonly string[], name: string): string {
  return `${startLinkTest(dirs, name)}; printf 'E %s\\n' "$e"`;
}

/**
 * The commands that make update-rc.d start `name` at boot, its start links in `dirs`. `defaults`
 * links the script by its LSB header where it has no link at all; `enable` (with `enableArgs`,
 * the runlevels) turns links someone made K back into S, and runs only when `defaults` left no
 * start link: each update-rc.d is a perl start (with a `systemctl` from `enable`), and on a
 * host lvsprov has never touched `defaults` alone does the whole job.
 */
export function updateRcDEnableCommands(dirs: readonly string[], name: string, enableArgs: readonly string[] = []): string[] {
  return [command('update-rc.d', name, 'defaults'), `${startLinkTest(dirs, name)}; [ "$e" = enabled ] || ${command('update-rc.d', name, 'enable', ...enableArgs)}`];
}

/**
 * Shell that prints `E enabled` when `name` has a start link in the link directory of every one
 * of `levels` (its LSB Default-Start: `2 3 4 5`, or `S`), else `E disabled`: a link in rc3.d alone
 * starts it in runlevel 3 only, and a K link starts it nowhere.
 */
export function everyLevelStartProbe(levels: readonly string[], name: string): string {
  const level = (runlevel: string): string =>
    `s=; for f in /etc/rc${runlevel}.d/S[0-9][0-9]${quote(name)}; do if [ -e "$f" ]; then s=yes; fi; done; if [ -z "$s" ]; then e=disabled; fi`;
  return `e=enabled; ${levels.map(level).join('; ')}; printf 'E %s\\n' "$e"`;
}

/**
 * The commands that give `name` exactly the links update-rc.d makes from its LSB header. Debian's
 * update-rc.d (without insserv) leaves a script that has any link alone on `defaults` and only
 * turns K links into S on `enable`, so a partial set (rc3.d alone) is never completed by them: its
 * links go first (where it has any), then `defaults` makes them all (S01 in each Default-Start level).
 */
export function updateRcDRelinkCommands(name: string): string[] {
  const any = `l=; for f in /etc/rc?.d/[SK][0-9][0-9]${quote(name)}; do if [ -e "$f" ]; then l=yes; fi; done`;
  return [`${any}; if [ -n "$l" ]; then ${command('update-rc.d', '-f', name, 'remove')}; fi`, command('update-rc.d', name, 'defaults')];
}

/** Shell that prints the tool that links init scripts into runlevels: `T update-rc.d`, `T chkconfig` or `T none`. */
export const enablerProbe =
  "if command -v update-rc.d >/dev/null 2>&1; then printf 'T update-rc.d\\n'; elif command -v chkconfig >/dev/null 2>&1; then printf 'T chkconfig\\n'; else printf 'T none\\n'; fi";
