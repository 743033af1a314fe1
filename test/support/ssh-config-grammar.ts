import { pick } from './seeded-random.js';

// Random ssh_config files from a grammar of what lvsprov reads, for the differential test against
// `ssh -G` (test/unit/ssh-config-differential.test.ts). Every file of a case is written in one
// folder; an Include names the others by an absolute path, by `~/` (the test's $HOME holds the
// case folders) or relative to ~/.ssh, through a glob or not. What lvsprov refuses on purpose is
// left out: ProxyCommand, KnownHostsCommand, RevokedHostKeys, Match exec, CanonicalizeHostname
// (ssh would resolve names in DNS), values lvsprov holds to its inventory's grammar (a User that is
// no login name, a HostName that is no host name, ConnectTimeout above 600...).

/** In a line: the case's folder, as an absolute path, from $HOME (`~/...`) and from ~/.ssh. */
export const DIR = '@DIR@';
export const TILDE_DIR = '@TILDE@';
export const REL_DIR = '@REL@';

export interface GeneratedFile {
  /** A name in the case's folder; the first file is the one given to `-F`. */
  readonly name: string;
  readonly lines: readonly string[];
}

export interface GeneratedCase {
  readonly files: readonly GeneratedFile[];
  /** The names given to ssh, one lookup each. */
  readonly hosts: readonly string[];
}

type Random = () => number;

export const HOSTS = ['web1', 'web2', 'WEB1', 'db1', 'alias', 'gw', 'x.example.com', 'Web.Example.COM', '192.0.2.5', 'lvs-a'] as const;
const PATTERNS = [...HOSTS, 'web*', 'web?', '*', '*.example.com', '*.EXAMPLE.COM', 'db?', '192.0.2.*', 'lvs-?', 'a*', '*1', 'real.example.com', '10.0.0.7'];
const USERS = ['deploy', 'admin', 'ops_1', 'root', 'Deploy'];

/** Valid values for each keyword lvsprov reads, tokens included where ssh takes them. */
const VALUES: Readonly<Record<string, readonly string[]>> = {
  HostName: ['192.0.2.10', '10.0.0.7', 'real.example.com', 'Real.Example.COM', '%h.example.com', '%h', '%h.lan', 'db-%h.lan'],
  User: USERS,
  Port: ['22', '2201', '2202', 'ssh', '65535'],
  IdentityFile: ['~/.ssh/id_ed25519', '~/.ssh/id_%r', '/keys/%h/id', '%d/.ssh/id_%u', 'none', '/keys/%n-%p', '${HOME}/k', 'keys/rel_%h', '/keys/%%x'],
  UserKnownHostsFile: ['~/.ssh/kh_%h', '/kh/%n-%p-%r', '%d/kh %d/kh2', 'none', '${HOME}/kh_%u', '/kh/%C', '/kh/%%x', '/kh/%k', '/kh/%l-%L-%i', 'rel/kh', '~/kh ~/kh2 /kh/3'],
  HostKeyAlias: ['Alias-Key', 'k1', 'web-key'],
  ConnectTimeout: ['5', '30', '1m', 'none', '0', '90s', '1M30s'],
  ServerAliveInterval: ['0', '15', '1m', '2m30s', 'none'],
  ServerAliveCountMax: ['1', '3', '5', '0'],
  StrictHostKeyChecking: ['yes', 'no', 'ask', 'accept-new', 'off', 'true', 'false', 'Yes', 'ACCEPT-NEW'],
  IdentitiesOnly: ['yes', 'no', 'true', 'false', 'YES'],
  CheckHostIP: ['yes', 'no'],
  HashKnownHosts: ['yes', 'no'],
  ProxyJump: ['gw', 'admin@gw:2222', 'gw1,gw2', 'none', '%r@gw-%n', 'ssh://u@10.0.0.1:2200', 'gw:ssh', 'jump.example.com'],
};

/** Lines ssh refuses, in a block that applies or not (the last ones only where they apply). */
const REFUSED = [
  'Port 0',
  'Port abc',
  'Port 22 23',
  'Hostnme x',
  'StrictHostKeyChecking maybe',
  'IdentitiesOnly sure',
  'ConnectTimeout 5x',
  'Match bogus x',
  'Match host',
  'Match all host x',
  'Host "open',
  'User',
  'User ""',
  'ProxyJump gw1, gw2',
  'ProxyJump gw:0',
  'UserKnownHostsFile none /kh/x',
  'HostName x-%p',
  'UserKnownHostsFile /kh/%z',
  'UserKnownHostsFile ${LVSPROV_UNSET_VARIABLE}/kh',
];

const keywordCase = (random: Random, keyword: string): string => pick(random, [keyword, keyword, keyword.toLowerCase(), keyword.toUpperCase()]);
const separator = (random: Random): string => pick(random, [' ', ' ', ' ', '\t', '=', ' = ', '  ']);
const indent = (random: Random): string => pick(random, ['', '  ', '  ', '\t']);

function directive(random: Random, keyword: string, value: string): string {
  // Quoted, where the value is one word. Not a ProxyJump: ssh reads its text as written and puts it
  // into the `ssh -J ... -W` command it runs through the shell, so `"gw1,gw2"` reaches no host,
  // which lvsprov refuses at the line (proxy-chain.ts).
  const written = !value.includes(' ') && keyword !== 'ProxyJump' && random() < 0.15 ? `"${value}"` : value;
  // Not after `ProxyJump none`: ssh 9.2 (and later) compares the text with its comment to `none`
  // (readconf.c parse_jump) and so reads a jump host named none, where lvsprov reads no jump host,
  // as ssh_config(5) says of `none` and of comments.
  const comment = random() < 0.08 && !(keyword === 'ProxyJump' && value === 'none') ? ' # note' : '';
  return `${indent(random)}${keywordCase(random, keyword)}${separator(random)}${written}${comment}`;
}

const negated = (random: Random, pattern: string): string => (random() < 0.2 ? `!${pattern}` : pattern);

function hostLine(random: Random): string {
  const count = 1 + Math.floor(random() * 3);
  const patterns = Array.from({ length: count }, (_, i) => (i === 0 ? pick(random, PATTERNS) : negated(random, pick(random, PATTERNS))));
  return `${keywordCase(random, 'Host')}${separator(random)}${patterns.join(' ')}`;
}

function matchLine(random: Random): string {
  const list = (items: readonly string[]): string => Array.from({ length: 1 + Math.floor(random() * 2) }, (_, i) => (i === 0 ? pick(random, items) : negated(random, pick(random, items)))).join(',');
  const criterion = (): string => {
    const kind = pick(random, ['host', 'host', 'originalhost', 'originalhost', 'user', 'localuser', 'final', 'canonical']);
    const name = (random() < 0.2 ? '!' : '') + keywordCase(random, kind);
    if (kind === 'final' || kind === 'canonical') return name;
    return `${name} ${list(kind === 'user' ? [...USERS, 'r*', 'nobody'] : kind === 'localuser' ? ['root', 'nobody', 'r?ot'] : PATTERNS)}`;
  };
  if (random() < 0.15) return `Match ${random() < 0.2 ? '!' : ''}all`;
  const criteria = Array.from({ length: 1 + Math.floor(random() * 2) }, criterion);
  // `all` may end a line of one other criterion.
  if (criteria.length === 1 && random() < 0.1) criteria.push('all');
  return `${keywordCase(random, 'Match')} ${criteria.join(' ')}`;
}

function someDirectives(random: Random, includes: readonly string[]): string[] {
  const lines: string[] = [];
  const count = 1 + Math.floor(random() * 4);
  for (let i = 0; i < count; i++) {
    if (random() < 0.1) lines.push(random() < 0.5 ? '' : `${indent(random)}# a comment`);
    if (includes.length > 0 && random() < 0.12) {
      lines.push(directive(random, 'Include', pick(random, includes)));
      continue;
    }
    const keyword = pick(random, Object.keys(VALUES));
    lines.push(directive(random, keyword, pick(random, VALUES[keyword] ?? [])));
  }
  return lines;
}

function fileLines(random: Random, includes: readonly string[]): string[] {
  const lines: string[] = [];
  if (random() < 0.4) lines.push(...someDirectives(random, includes));
  const blocks = 1 + Math.floor(random() * 5);
  for (let i = 0; i < blocks; i++) {
    lines.push(random() < 0.35 ? matchLine(random) : hostLine(random));
    lines.push(...someDirectives(random, includes));
  }
  if (random() < 0.3) lines.push('Host *', ...someDirectives(random, includes));
  return lines;
}

/** How an Include names `name` (or its siblings, through a glob): absolute, from ~, or from ~/.ssh. */
function includePath(random: Random, name: string): string {
  const base = pick(random, [DIR, DIR, TILDE_DIR, REL_DIR]);
  const glob = pick(random, [name, name, name.replace(/-[a-z]\./, '-?.'), name.replace(/-[a-z]\.conf$/, '-*.conf'), 'nomatch-*.conf']);
  return `${base}/${glob}`;
}

/** One case: a main file, up to two included files (the first may include the second), and three names. */
export function generateCase(random: Random): GeneratedCase {
  const includedCount = Math.floor(random() * 3);
  const names = ['inc-a.conf', 'inc-b.conf'].slice(0, includedCount);
  const files: { name: string; lines: string[] }[] = [];
  // Each file includes only those after it: no Include loop.
  const inner = names.map((name, index) => ({ name, lines: fileLines(random, names.slice(index + 1).map((later) => includePath(random, later))) }));
  files.push({ name: 'config', lines: fileLines(random, names.map((name) => includePath(random, name))) }, ...inner);
  if (random() < 0.15) {
    const file = pick(random, files);
    const at = Math.floor(random() * (file.lines.length + 1));
    file.lines.splice(at, 0, `${indent(random)}${pick(random, REFUSED)}`);
  }
  const hosts = new Set<string>();
  while (hosts.size < 3) hosts.add(pick(random, HOSTS));
  return { files, hosts: [...hosts] };
}
