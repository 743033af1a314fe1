import { sshPort } from './service-port.js';

// A ProxyJump line as ssh 9.2 reads it before anything is expanded (readconf.c parse_jump, for
// every ProxyJump line, in a block that applies or not): the line's text cut at its first `#`,
// each entry `[user@]host[:port]` or `ssh://[user@]host[:port]`, with a user and a host that are
// not empty and a port a2port reads as written: a number from 1 to 65535 or a tcp service name
// (`gw:ssh` is port 22; `gw:%p` is refused, as ssh refuses it: "Invalid ProxyJump"). In an
// ssh:// entry the user ends at the first `@`, loses its `;parameters` and is URL-decoded
// (`ssh://a%40b@gw` is the user a@b); otherwise it ends at the last `@`.

export interface JumpEntry {
  /** As written (quotes kept: ssh hands them to the shell with the command it runs). */
  readonly user?: string | undefined;
  readonly host: string;
  readonly port?: number | undefined;
}

/** misc.c urldecode: `%XX` a byte, undefined for a `%` not followed by two hex digits. */
function urlDecoded(text: string): string | undefined {
  if (/%(?![0-9a-f]{2})/i.test(text)) return undefined;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** One entry as ssh reads it, or why ssh refuses it. */
export function readJumpEntry(entry: string): JumpEntry | string {
  const uri = entry.startsWith('ssh://');
  let rest = uri ? entry.slice('ssh://'.length) : entry;
  let user: string | undefined;
  const at = uri ? rest.indexOf('@') : rest.lastIndexOf('@');
  if (at !== -1) {
    const written = uri ? rest.slice(0, at).replace(/;.*$/, '') : rest.slice(0, at);
    user = uri ? urlDecoded(written) : written;
    if (written === '') return `ProxyJump entry "${entry}" is not [user@]host[:port]: its user is empty`;
    if (user === undefined) return `ProxyJump entry "${entry}" has the user "${written}", whose % is not followed by two hex digits as an ssh:// URI's must be (ssh refuses this line too)`;
    rest = rest.slice(at + 1);
  }
  // An ssh:// URI may end its authority with one `/` and no path (ssh -G: `ssh://gw/` is gw,
  // `ssh://gw:2222/` gw:2222; `ssh://[::1]/` and `ssh://gw/x` are refused). Any other `/` in the
  // host or port refuses the entry (ssh -G: "Invalid ProxyJump").
  if (uri && /^[^/[]+\/$/.test(rest)) rest = rest.slice(0, -1);
  const match = /^(\[[^\]]+\]|[^:@/[\]]+)(?::([^/]*))?$/.exec(rest);
  if (!match) return `ProxyJump entry "${entry}" is not [user@]host[:port]`;
  const port = match[2];
  if (port !== undefined && port !== '' && sshPort(port) === undefined) {
    return `ProxyJump entry "${entry}" has the port "${port}", not a number from 1 to 65535 or a tcp service name (ssh reads a ProxyJump before it expands any %-token, and refuses this line too)`;
  }
  return { user, host: (match[1] ?? '').replace(/^\[|\]$/g, ''), port: port ? sshPort(port) : undefined };
}

/** Why ssh refuses this ProxyJump value (its text as read), or undefined. */
export function proxyJumpProblem(values: readonly string[]): string | undefined {
  const value = values.join(' ');
  if (value.toLowerCase() === 'none') return undefined;
  // ssh 9.2 refuses `gw1, gw2` and takes `gw1 gw2` as gw1 alone (ssh -G): no reading of a blank
  // there reaches the hosts written, and none is a host named with a blank.
  if (values.length > 1 || /\s/.test(value.trim())) return `ProxyJump "${value}" has a blank inside it: its entries are separated by commas alone ([user@]host[:port],...); ssh refuses "gw1, gw2" and reads "gw1 gw2" as gw1 alone`;
  for (const entry of value.split(',')) {
    const read = readJumpEntry(entry.trim());
    if (typeof read === 'string') return read;
  }
  return undefined;
}
