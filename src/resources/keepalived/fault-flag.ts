import { pollUntil } from '../../shell/poll.js';
import { quote } from '../../shell/quote.js';
import { writeFileCommands } from '../file-state.js';
import { word } from './config-text.js';
import { keepalivedAlive } from './probe.js';

// How a running keepalived lets go of some of its VRRP instances with a priority 0 advert while
// keeping the others: a tracked file it watches (keepalived 2.2.7's track_file, inotify on the
// file's directory) whose value turns non-zero puts each instance that tracks it at weight 0 into
// FAULT. An instance that was MASTER then sends priority 0 (vrrp_state_leave_master, as a clean
// stop does) and removes its VIPs; a backup of the group that hears it takes the VIPs after its
// skew, (256 - priority) / 256 of a second, nopreempt and preempt_delay notwithstanding (2.2.7's
// vrrp_state_backup reads priority 0 before either). A reload that deletes such an instance sends
// that advert on a socket the reload already closed: its peers waited out the master-down interval.

/** The name of the tracked file in keepalived.conf. */
const TRACK_NAME = 'lvsprov_leave';

/** The tracked file beside the config: one per config, so hosts sharing a filesystem tree each have their own. */
export function faultFlagPath(configPath: string): string {
  return `${configPath}.lvsprov-leave`;
}

/**
 * `text` (a config as lvsprov writes it) with the named instances tracking the flag at weight 0.
 * The flag's block goes ahead of the first block; each instance's track_file goes last in it, so
 * the rest of the instance reads as before. Applied twice, it changes nothing more.
 */
export function tracking(text: string, names: ReadonlySet<string>, flag: string): string {
  if (text.includes(`\ntrack_file ${TRACK_NAME} {\n`)) return text;
  const lines = text.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let inside = false;
  let declared = false;
  for (const line of lines) {
    if (!declared && /^(vrrp_sync_group|vrrp_instance|virtual_server) /.test(line)) {
      out.push(`track_file ${TRACK_NAME} {`, `    file ${word(flag)}`, '    weight 0', '}', '');
      declared = true;
    }
    const head = /^vrrp_instance (\S+) \{$/.exec(line);
    if (head) inside = names.has(head[1] as string);
    else if (line === '}' && inside) {
      out.push('    track_file {', `        ${TRACK_NAME} weight 0`, '    }');
      inside = false;
    }
    out.push(line);
  }
  return `${out.join('\n')}\n`;
}

/** Shell: writes `value` to the flag (by rename: keepalived reads it on the move into place). */
export function setFlagCommands(flag: string, value: 0 | 1): string[] {
  return writeFileCommands(flag, `${value}\n`, '644');
}

/**
 * Shell: waits, at most 5 s, until a keepalived process watches the flag's directory (the reload
 * that added the track_file is done: a flag set before it would be read by the reload itself, not
 * as a change), and fails if none does. /proc/PID/fdinfo lists each inotify watch's inode in hex.
 */
export function untilWatched(flag: string): string {
  const dir = flag.slice(0, flag.lastIndexOf('/')) || '/';
  const none = quote(`keepalived did not watch ${flag} 5 s after its reload`);
  return [
    `ino=$(printf '%x' "$(stat -c %i ${quote(dir)})")`,
    'watched() {',
    `  ${keepalivedAlive} || return 1`,
    '  for p in "$ka_pid" $(cat /proc/"$ka_pid"/task/*/children 2>/dev/null); do',
    '    grep -qs "^inotify wd:[0-9]* ino:$ino " /proc/"$p"/fdinfo/* && return 0',
    '  done',
    '  return 1',
    '}',
    pollUntil('watched', 5),
    `watched || { printf '%s\\n' ${none} >&2; false; }`,
  ].join('\n');
}
