import { ConfigError } from '../errors.js';
import { hostAddressProblem } from '../net/host-address.js';
import type { ConfigValue } from '../transport/ssh-config.js';
import { sshPort } from '../transport/service-port.js';
import { sshTimeSeconds, wanted } from '../transport/ssh-config-line-values.js';
import { loginNameProblem } from './values.js';

// Values lvsprov takes from an OpenSSH client config are held to the grammar the inventory's own
// keys have: a HostName of `-oProxyCommand=...` or a Port of 70000 is refused at its line before
// any connection, as the same value in the inventory would be.

const timeKeywords = new Set(['connecttimeout', 'serveraliveinterval']);

/** Why `value` cannot be this keyword's value; undefined when it can. */
function problemOf(keyword: string, value: string): string | undefined {
  switch (keyword) {
    case 'port':
      return sshPort(value) === undefined ? `${wanted.port}, not ${JSON.stringify(value)}` : undefined;
    case 'serveraliveinterval':
      // none is ssh's "not set" (its default, no keepalives; lvsprov's default here).
      return (/^\d+$/.test(value) && Number(value) <= 3600) || value === 'none' ? undefined : `${wanted.serveraliveinterval}, not ${JSON.stringify(value)}`;
    case 'serveralivecountmax':
      return /^\d+$/.test(value) && Number(value) <= 100 ? undefined : `${wanted.serveralivecountmax}, not ${JSON.stringify(value)}`;
    case 'connecttimeout':
      // 0 and none are ssh's "no timeout of its own" (ssh -G reads both).
      // Held to the inventory's connect_timeout limit: a timer past 2^31-1 ms would fire at once.
      return (/^\d+$/.test(value) && Number(value) <= 600) || value.toLowerCase() === 'none' ? undefined : `${wanted.connecttimeout}, not ${JSON.stringify(value)}`;
    case 'user':
      return loginNameProblem(value) === undefined ? undefined : `User ${loginNameProblem(value)}, not ${JSON.stringify(value)}`;
    case 'hostname': {
      const why = hostAddressProblem(value);
      return why === undefined ? undefined : `HostName must be an IPv4 address or a host name; ${JSON.stringify(value)} ${why}`;
    }
    default:
      return undefined;
  }
}

/**
 * `value` (read from `found`, after any %-token expansion), a time in whole seconds, a port as a
 * number, or a
 * ConfigError at its place in the config file.
 */
export function checkedSshConfigValue(keyword: string, found: Pick<ConfigValue, 'file' | 'line' | 'col'>, value: string): string {
  const seconds = timeKeywords.has(keyword) ? sshTimeSeconds(value) : undefined;
  const problem = problemOf(keyword, seconds === undefined ? value : String(seconds));
  if (problem !== undefined) throw new ConfigError([{ file: found.file, line: found.line, col: found.col, path: '', message: seconds === undefined ? problem : `${problem} (${JSON.stringify(value)})` }]);
  // A port as ssh uses it: `Port ssh` is 22, in %p and on the wire.
  if (keyword === 'port') return String(sshPort(value));
  return seconds === undefined ? value : String(seconds);
}
