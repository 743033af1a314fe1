// A ProxyJump line as ssh 9.2 reads it before anything is expanded (readconf.c parse_jump, for
// every ProxyJump line, in a block that applies or not): each entry `[user@]host[:port]` or
// `ssh://[user@]host[:port]`, with a user and a host that are not empty and a port that is a
// number from 1 to 65535 as written (`gw:%p` is refused, as ssh refuses it: "Invalid ProxyJump").

// A `/` after the user (`gw/22`, `ssh://gw/x`) is refused by ssh too.
export const jumpEntryPattern = /^(?:ssh:\/\/)?(?:(.+)@)?(\[[^\]]+\]|[^:@/]+)(?::([^:/]*))?$/;

/** Why ssh refuses this ProxyJump value (its words as read), or undefined. */
export function proxyJumpProblem(values: readonly string[]): string | undefined {
  const value = values.join(' ');
  if (value.toLowerCase() === 'none') return undefined;
  // ssh 9.2 refuses `gw1, gw2` and takes `gw1 gw2` as gw1 alone (ssh -G): no reading of a blank
  // there reaches the hosts written, and none is a host named with a blank.
  if (values.length > 1 || /\s/.test(value.trim())) return `ProxyJump "${value}" has a blank inside it: its entries are separated by commas alone ([user@]host[:port],...); ssh refuses "gw1, gw2" and reads "gw1 gw2" as gw1 alone`;
  for (const entry of value.split(',')) {
    const match = jumpEntryPattern.exec(entry.trim());
    if (!match) return `ProxyJump entry "${entry.trim()}" is not [user@]host[:port]`;
    const port = match[3];
    if (port !== undefined && port !== '' && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
      return `ProxyJump entry "${entry.trim()}" has the port "${port}", not a number from 1 to 65535 (ssh reads a ProxyJump before it expands any %-token, and refuses this line too)`;
    }
  }
  return undefined;
}
