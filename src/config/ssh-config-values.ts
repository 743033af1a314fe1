import { ConfigError } from '../errors.js';
import { hostAddressProblem } from '../net/host-address.js';
import type { ConfigValue } from '../transport/ssh-config.js';
import { sshPort } from '../transport/service-port.js';
import { wanted } from '../transport/ssh-config-line-values.js';
import { loginNameProblem } from './values.js';

// Values lvsprov takes from an OpenSSH client config are held to the grammar the inventory's own
// keys have: a HostName of `-oProxyCommand=...` or a Port of 70000 is refused at its line before
// any connection, as the same value in the inventory would be.

const secondsPer: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const timeKeywords = new Set(['connecttimeout', 'serveraliveinterval']);

/** OpenSSH's time format (sshd_config(5), TIME FORMATS): `90`, `90s`, `1m30s`, `2H`, `1w`; undefined for anything else. */
export function sshTimeSeconds(value: string): number | undefined {
  if (!/^(\d+[smhdw]?)+$/i.test(value)) return undefined;
  let total = 0;
  for (const [, count, unit] of value.matchAll(/(\d+)([smhdw]?)/gi)) total += Number(count) * (secondsPer[(unit ?? '').toLowerCase()] ?? 1);
  return total;
}

/** Why `value` cannot be this keyword's value; undefined when it can. */
function problemOf(keyword: string, value: string): string | undefined {
  switch (keyword) {
    case 'port':
      return sshPort(value) === undefined ? `${wanted.port}, not ${JSON.stringify(value)}` : undefined;
    case 'serveraliveinterval':
      return /^\d+$/.test(value) && Number(value) <= 3600 ? undefined : `${wanted.serveraliveinterval}, not ${JSON.stringify(value)}`;
    case 'serveralivecountmax':
      return /^\d+$/.test(value) && Number(value) <= 100 ? undefined : `${wanted.serveralivecountmax}, not ${JSON.stringify(value)}`;
    case 'connecttimeout':
      // 0 and none are ssh's "no timeout of its own" (ssh -G reads both).
      return /^\d+$/.test(value) || value.toLowerCase() === 'none' ? undefined : `${wanted.connecttimeout}, not ${JSON.stringify(value)}`;
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
