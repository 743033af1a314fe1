import type { FileState } from './file-state.js';
import type { ServiceSpec } from './service.js';

// Where systemd runs a service, a service task's around_start commands go into a drop-in of its
// unit: systemd then runs them around every start of it, not only those lvsprov makes. A daemon
// that crashes and that its unit restarts (Restart=always), a start at boot, an operator's
// `systemctl restart`: each gets the same commands. Under sysvinit, and for a foreground daemon
// in the lab, lvsprov runs them itself around the starts it makes (service.ts).

/** What every drop-in lvsprov writes says in its first line; one that does not is not ours to remove. */
const MARKER = 'Managed by lvsprov';

export const dropInPath = (name: string): string => `/etc/systemd/system/${name}.service.d/lvsprov-around-start.conf`;

type AroundStart = NonNullable<ServiceSpec['around_start']>;

/**
 * One argument as an ExecStart= line takes it (systemd.syntax(7), systemd.unit(5) specifiers,
 * systemd.service(5) variables): double-quoted with C escapes, so a blank, a quote, a backslash
 * or a lone `;` stays inside the word; `%` doubled (a specifier), `$` doubled (a variable).
 */
export function execWord(word: string): string {
  const escaped = word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return `"${escaped}"`;
}

/**
 * One command line. `+` runs it with full privileges: the unit's own sandbox (Debian's memcached
 * drops every capability but three, allows no netlink socket and mounts /etc read-only) is for
 * the daemon, not for commands that change the firewall around it. The program path is checked
 * by the schema to need no quoting.
 */
const execLine = (key: 'ExecStartPre' | 'ExecStartPost', [program, ...args]: readonly [string, ...string[]]): string =>
  `${key}=+${[program, ...args.map(execWord)].join(' ')}`;

export function dropInContent(name: string, around: AroundStart): string {
  return [
    `# ${MARKER} (service ${name}, around_start): run around every start of ${name}, whoever starts it.`,
    '[Service]',
    ...around.before.map((words) => execLine('ExecStartPre', words)),
    ...around.after.map((words) => execLine('ExecStartPost', words)),
    // The default (90 s) counts the commands after the start too, and would cut a long one short.
    ...(around.timeout_s !== undefined ? [`TimeoutStartSec=${around.timeout_s}`] : []),
    '',
  ].join('\n');
}

export function isOurDropIn(file: FileState): boolean {
  return file.exists && file.content.startsWith(`# ${MARKER}`);
}
