import { ConfigError } from '../errors.js';
import { hostAddressProblem } from '../net/host-address.js';
import type { ConfigValue } from '../transport/ssh-config.js';

// Values lvsprov takes from an OpenSSH client config are held to the grammar the inventory's own
// keys have: a HostName of `-oProxyCommand=...` or a Port of 70000 is refused at its line before
// any connection, as the same value in the inventory would be.

const userName = /^[a-z_][a-z0-9_.-]*$/i;

/** Why `value` cannot be this keyword's value; undefined when it can. */
function problemOf(keyword: string, value: string): string | undefined {
  switch (keyword) {
    case 'port': {
      const port = Number(value);
      return /^\d+$/.test(value) && port >= 1 && port <= 65535 ? undefined : `Port must be a whole number 1-65535, not ${JSON.stringify(value)}`;
    }
    case 'serveraliveinterval':
      return /^\d+$/.test(value) && Number(value) <= 3600 ? undefined : `ServerAliveInterval must be a whole number of seconds 0-3600 (0: no keepalives), not ${JSON.stringify(value)}`;
    case 'serveralivecountmax':
      return /^\d+$/.test(value) && Number(value) <= 100 ? undefined : `ServerAliveCountMax must be a whole number 0-100, not ${JSON.stringify(value)}`;
    case 'connecttimeout':
      return /^\d+$/.test(value) && Number(value) >= 1 ? undefined : `ConnectTimeout must be a whole number of seconds, at least 1, not ${JSON.stringify(value)}`;
    case 'user':
      return userName.test(value) ? undefined : `User must be a user name (letters, digits, _ . -, not starting with - . or a digit), not ${JSON.stringify(value)}`;
    case 'hostname': {
      const why = hostAddressProblem(value);
      return why === undefined ? undefined : `HostName must be an IPv4 address or a host name; ${JSON.stringify(value)} ${why}`;
    }
    default:
      return undefined;
  }
}

/** `value` (read from `found`, after any %-token expansion), or a ConfigError at its line of the config file. */
export function checkedSshConfigValue(keyword: string, found: Pick<ConfigValue, 'file' | 'line'>, value: string): string {
  const problem = problemOf(keyword, value);
  if (problem !== undefined) throw new ConfigError([{ file: found.file, line: found.line, col: 1, path: '', message: problem }]);
  return value;
}
