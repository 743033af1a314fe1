import { quote } from '../../shell/quote.js';
import { writeFileCommands } from '../file-state.js';
import { keepalivedAlive } from './probe.js';

/** Write `text` to `path` only if keepalived accepts it, then make a running keepalived read it (SIGHUP). */
export function writeConfigCommands(path: string, text: string): string[] {
  return [...testedWriteCommands(path, text), reloadCommand];
}

/** Write `text` to `path` (atomically) only if `keepalived -t` accepts it. */
export function testedWriteCommands(path: string, text: string): string[] {
  const refused = quote('keepalived -t refused the new config: the old config and the running keepalived are unchanged');
  // `(exit N)` fails the check with keepalived's status; the write then removes its temp file.
  return writeFileCommands(path, text, '644', (tmp) => `{ keepalived -t -f ${tmp} || { s=$?; printf '%s (exit %s)\\n' ${refused} "$s" >&2; (exit "$s"); }; }`);
}

/** Reload rereads the config without dropping VRRP state or the connections of servers that stay. */
export const reloadCommand = `if ${keepalivedAlive}; then kill -HUP "$ka_pid"; fi`;
