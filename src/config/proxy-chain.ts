import { ConfigError } from '../errors.js';
import type { ConfigValue, ResolvedSshConfig } from '../transport/ssh-config.js';
import { expandTokens, type Tokens } from './ssh-tokens.js';
import { readJumpEntry } from '../transport/proxy-jump-syntax.js';
import { argvSplit } from '../transport/ssh-config-line.js';
import { hostAddressProblem } from '../net/host-address.js';
import { loginNameProblem } from './values.js';

// Which proxy ssh(1) uses for a host, and the whole chain of jump hosts, as OpenSSH 9.2 does
// (checked with `ssh -G` and `ssh -v`):
// - ProxyJump and ProxyCommand exclude each other and the first one obtained wins, `ProxyCommand
//   none` included; `ProxyJump none` alone leaves a later ProxyCommand in force.
// - ProxyJump a,b runs `ssh -J a b`: b's own ProxyJump is overridden, while a, reached first, is
//   looked up with its own config, so a's ProxyJump (or ProxyCommand) applies to it, recursively.
// - ssh runs a ProxyJump as an `ssh -W` command and expands %h %n %p %r in it with the values of
//   the host it is for: a's own ProxyJump `%r@gw-%n` takes a's user and name (`ssh -v`: `exec ssh
//   -l u1 -p 2299 ... gw2201-a` for a reached as u1 on port 2201), never its target's. A token it
//   does not know there stops ssh too.

export interface JumpSpec {
  readonly host: string;
  readonly user?: string | undefined;
  readonly port?: number | undefined;
  readonly privateKey?: string | undefined;
  readonly knownHosts?: string | undefined;
  readonly origin: string;
}

export type Proxy = { readonly kind: 'none' } | { readonly kind: 'jump' | 'command'; readonly value: ConfigValue };

const isNone = (value: ConfigValue): boolean => value.values.join(' ').toLowerCase() === 'none';

export function proxyOf(config: ResolvedSshConfig): Proxy {
  const jump = config.values.get('proxyjump');
  const command = config.values.get('proxycommand');
  if (jump && !isNone(jump) && (!command || jump.order < command.order)) return { kind: 'jump', value: jump };
  if (command && !isNone(command) && (!jump || isNone(jump) || command.order < jump.order)) return { kind: 'command', value: command };
  return { kind: 'none' };
}

/** One ProxyJump entry: `[user@]host[:port]` or `ssh://[user@]host[:port]`, as written. */
export function parseJumpEntry(entry: string, origin: string): JumpSpec {
  const read = readJumpEntry(entry.trim());
  if (typeof read === 'string') throw new Error(`${origin}: ${read}`);
  return { host: read.host, user: read.user, port: read.port, origin };
}

/**
 * A ProxyJump value's entries, its tokens expanded with `tokens` (%h %n %p %r of the host it is
 * for). ssh puts the user and host into the `ssh -l USER -W ... HOST` command it runs through the
 * shell, which takes their quotes away (`'gw'` reaches gw); lvsprov reads those quotes as ssh reads
 * them everywhere else (argv_split), then holds the host and the user to the rules a HostName and
 * a User have, so that a name the shell would read otherwise (`-oProxyCommand=x`, `010.1.1.1`,
 * `$(cmd)`) is refused at the line rather than reached.
 */
// Its syntax was checked as the file was read (proxy-jump-syntax.ts), as ssh checks it.
export const jumpEntries = (value: ConfigValue, tokens: Tokens): JumpSpec[] =>
  value.values
    .join(' ')
    .split(',')
    .map((part) => {
      const entry = parseJumpEntry(part, value.origin);
      const word = (text: string): string => {
        const words = argvSplit(expandTokens(text, tokens, value), 0);
        return typeof words === 'number' || words.length !== 1 ? refuse(value, `ProxyJump entry "${part.trim()}": ${JSON.stringify(text)} is not one word once its quotes are read`) : (words[0]?.text ?? '');
      };
      const host = word(entry.host);
      const user = entry.user === undefined ? undefined : word(entry.user);
      const hostProblem = hostAddressProblem(host);
      if (hostProblem !== undefined) refuse(value, `ProxyJump entry "${part.trim()}": the jump host must be an IPv4 address or a host name, as a HostName must; ${JSON.stringify(host)} ${hostProblem}`);
      const userProblem = user === undefined ? undefined : loginNameProblem(user);
      if (userProblem !== undefined) refuse(value, `ProxyJump entry "${part.trim()}": its user ${userProblem}, as a User must; not ${JSON.stringify(user)}`);
      return { ...entry, host, user };
    });

/** The tokens ssh expands in a ProxyJump: the HostName, the name as given, the port and the user of the host it reaches. */
export const proxyJumpTokens = (host: string, original: string, port: number, user: string): Tokens => ({ h: host, n: original, p: String(port), r: user });

/** At the value, or at the keyword when the keyword itself is what is refused. */
const refuse = (value: ConfigValue, message: string, col = value.col): never => {
  throw new ConfigError([{ file: value.file, line: value.line, col, path: '', message }]);
};

export function refuseProxyCommand(value: ConfigValue, whom: string): never {
  return refuse(value, `ProxyCommand (for ${whom}) is not supported by lvsprov, which runs no local command; use ProxyJump or the inventory's ssh.jump`, value.keywordCol);
}

/**
 * The jump hosts in the order they are connected: `entries` (the host's ProxyJump or the
 * inventory's ssh.jump) preceded by what the first one needs to be reached, from its own config.
 */
export function jumpChain(entries: readonly JumpSpec[], lookup: (jump: JumpSpec) => ResolvedSshConfig, tokensOf: (jump: JumpSpec) => Tokens): JumpSpec[] {
  let chain = [...entries];
  const expanded: string[] = [];
  for (;;) {
    const first = chain[0];
    if (!first) return chain;
    const proxy = proxyOf(lookup(first));
    if (proxy.kind === 'none') return chain;
    if (proxy.kind === 'command') return refuseProxyCommand(proxy.value, `jump host ${first.host}`);
    if (expanded.includes(first.host.toLowerCase())) return refuse(proxy.value, `ProxyJump loop: ${[...expanded, first.host.toLowerCase()].join(' -> ')} (each reached through the next)`);
    expanded.push(first.host.toLowerCase());
    chain = [...jumpEntries(proxy.value, tokensOf(first)), ...chain];
  }
}
