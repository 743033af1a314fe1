import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { sshHomeDir } from '../transport/local-user.js';
import { ConfigError } from '../errors.js';
import type { ConfigValue } from '../transport/ssh-config.js';

// ssh_config's %-tokens (ssh_config(5), TOKENS) and ${NAME} environment variables for the paths
// lvsprov reads (IdentityFile, UserKnownHostsFile, IdentityAgent) and HostName (%h alone). A token ssh does not know is an
// error at its line, as in ssh, rather than a file literally named `%x`.

export interface TokenSubjects {
  /** HostName after expansion (%h). */
  readonly host: string;
  /** The name as given: the inventory's address, or a jump host's name (%n). */
  readonly original: string;
  readonly port: number;
  readonly user: string;
  readonly localUser: string;
  readonly hostKeyAlias?: string | undefined;
  /** %d: the passwd entry's home unless a test says otherwise. */
  readonly home?: string | undefined;
}

/** A token's value, or how to compute it when a path asks for it (%C needs node:crypto, which a command that connects nowhere never loads). */
export type Tokens = Readonly<Record<string, string | (() => string)>>;

export function sshTokens(subjects: TokenSubjects): Tokens {
  const local = hostname();
  const tokens: Record<string, string | (() => string)> = {
    h: subjects.host,
    n: subjects.original,
    p: String(subjects.port),
    r: subjects.user,
    u: subjects.localUser,
    // The passwd entry's home, not $HOME, as ssh.
    d: subjects.home ?? sshHomeDir(),
    i: String(process.getuid?.() ?? 0),
    l: local,
    L: local.split('.')[0] ?? local,
    // The host key alias, else the name as given.
    k: subjects.hostKeyAlias ?? subjects.original,
  };
  // %C: a hash of %l%h%p%r, as ssh 9.2 computes it.
  tokens.C = () => {
    const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
    return createHash('sha1').update(`${local}${subjects.host}${subjects.port}${subjects.user}`).digest('hex');
  };
  return tokens;
}

/**
 * `value` with its tokens replaced and, given `env`, its `${NAME}` environment variables (the
 * paths ssh expands them in: IdentityFile, UserKnownHostsFile, IdentityAgent), in one pass as ssh
 * does (a variable's value is not expanded again). An unknown token or a variable that is not set
 * is a ConfigError at `found`'s value: ssh stops there too ("invalid environment variable expansion").
 */
export function expandTokens(value: string, tokens: Tokens, found?: Pick<ConfigValue, 'file' | 'line' | 'col' | 'values' | 'places'>, env?: NodeJS.ProcessEnv): string {
  let at = 0;
  const refuse = (message: string): never => {
    throw new ConfigError([{ ...(found ? partAt(found, value, at) : { file: '', line: 0, col: 1 }), path: '', message }]);
  };
  return value.replace(env ? /%(.?)|\$\{([^}]*)(\}?)/g : /%(.?)()()/g, (whole: string, letter: string | undefined, name: string | undefined, close: string | undefined, offset: number) => {
    at = offset;
    if (name !== undefined && env) {
      if (close !== '}' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return found ? refuse(`invalid environment variable expansion ${JSON.stringify(whole)} in ${JSON.stringify(value)} (ssh refuses it too)`) : whole;
      const set = Object.hasOwn(env, name) ? env[name] : undefined;
      if (set !== undefined) return set;
      return found ? refuse(`environment variable ${name} in ${JSON.stringify(value)} is not set (ssh refuses it too)`) : whole;
    }
    if (letter === '%') return '%';
    const token = letter !== undefined && Object.hasOwn(tokens, letter) ? tokens[letter] : undefined;
    if (token !== undefined) return typeof token === 'function' ? token() : token;
    if (!found) return whole;
    return refuse(`unknown %-token ${whole || '% at the end'} in ${JSON.stringify(value)} (ssh refuses it too; %% for a literal %)`);
  });
}

/**
 * Where the character at `index` of `value` was written: the value is looked up on its own line as
 * written, so a message points at the token itself. A value written otherwise than it reads (quoted
 * with escapes) is pointed at by its start.
 */
function partAt(found: Pick<ConfigValue, 'file' | 'line' | 'col' | 'values' | 'places'>, value: string, index: number): { file: string; line: number; col: number } {
  // A part of a value (one hop of a ProxyJump) is found in the value that holds it.
  const which = found.values.findIndex((candidate) => candidate.includes(value));
  const place = found.places?.[Math.max(0, which)];
  if (!place) return { file: found.file, line: found.line, col: found.col };
  const written = place.source.indexOf(value, place.col - 1);
  return { file: place.file, line: place.line, col: written === -1 ? place.col : written + index + 1 };
}
