import { ConfigError } from '../errors.js';
import { globMatches } from '../glob.js';
import { checkSshConfigPermissions, globFiles, readSshConfigText } from './ssh-config-file.js';
import { matchCriteriaProblem } from './ssh-config-match.js';
import { isSshConfigKeyword, unknownKeywordProblem } from './ssh-config-keywords.js';
import { proxyJumpProblem } from './proxy-jump-syntax.js';
import { lineValueProblem } from './ssh-config-line-values.js';
import { sshHomeDir, systemUserName } from './local-user.js';
import { sshTildeParts } from '../config/ssh-tilde.js';
import { statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { matchWords, readSshConfigLine, type SshConfigLine } from './ssh-config-line.js';

// OpenSSH's client config (ssh_config(5)) read the way ssh reads it for one host: the file from
// top to bottom, a Host block applying when one of its patterns matches and none of its negated
// ones does, and for each keyword the FIRST value obtained wins (IdentityFile and the other list
// keywords accumulate). Each line is split as ssh splits it (ssh-config-line.ts: quotes, escapes,
// `=`, comments), and matched here.
//
// Match blocks: `all`, `host`, `originalhost`, `user`, `localuser`, `final` and `canonical` (both
// true in the second reading `Match final` asks for, in which Host lines match the HostName) are
// evaluated, each negated by a leading `!`.
// `exec` is not (lvsprov runs no command from a config file): such a block is skipped and said so
// in `ignored`.

export interface ConfigValue {
  readonly values: readonly string[];
  /** Where it came from: `file:line (Host pattern)`. */
  readonly origin: string;
  readonly file: string;
  readonly line: number;
  /** The columns of its keyword and of its (first) value on that line, where a message points. */
  readonly keywordCol: number;
  readonly col: number;
  /** Each value's line as written, where a message about a part of it (a %-token) points. */
  readonly places?: readonly ValuePlace[];
  /** When it was obtained, in the order ssh reads the files: which of two keywords came first. */
  readonly order: number;
}

export interface ResolvedSshConfig {
  /** Keywords lowercased, e.g. `hostname`, `identityfile`. */
  readonly values: ReadonlyMap<string, ConfigValue>;
  /** Blocks or keywords that were skipped, with why. */
  readonly ignored: readonly string[];
}

const listKeywords = new Set(['identityfile', 'certificatefile', 'localforward', 'remoteforward', 'dynamicforward', 'sendenv', 'setenv']);

/**
 * Keywords whose `none` ssh stores as its own "not set" (readconf.c parse_time: -1), so that a later
 * line still sets them: `ConnectTimeout none` then `ConnectTimeout 5` is 5 to ssh -G. lvsprov keeps
 * the `none` until then, to say where it came from when nothing replaces it.
 */
const NONE_IS_UNSET: ReadonlySet<string> = new Set(['connecttimeout', 'serveraliveinterval']);

/** readconf.h and ssh.h: SSH_MAX_HOSTS_FILES, SSH_MAX_IDENTITY_FILES, SSH_MAX_CERTIFICATE_FILES. */
const maxEntries: Readonly<Record<string, number>> = { userknownhostsfile: 32, globalknownhostsfile: 32, identityfile: 100, certificatefile: 100 };

interface Directive extends Place {
  readonly keyword: string;
  readonly values: string[];
}

/** A keyword's line, and the columns of the keyword and of its value (after spaces or `=`). */
interface Place {
  readonly line: number;
  readonly keywordCol: number;
  readonly col: number;
  /** The column of each value, as split. */
  readonly cols: readonly number[];
  /** The line as written. */
  readonly source: string;
}

/** Where a value was written: its file, line, the column its values start at, and the line's text. */
export interface ValuePlace {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly source: string;
}

interface Block {
  /** null: directives before the first Host or Match, which apply to every host. */
  readonly condition: { readonly kind: 'host'; readonly patterns: string[] } | { readonly kind: 'match'; readonly criteria: string[] } | null;
  readonly line: number;
  readonly directives: Directive[];
}

interface ParsedFile {
  readonly file: string;
  readonly blocks: Block[];
}

const parsedFiles = new Map<string, ParsedFile>();

/**
 * The keywords ssh 9.2 reads an empty quoted value (`""`) for: the commands, ProxyJump, and those it
 * no longer uses. Every other keyword it refuses so, in a block that applies or not ("Missing
 * argument", "empty argument").
 */
const TAKES_EMPTY: ReadonlySet<string> = new Set(
  'afstokenpassing cipher compressionlevel fallbacktorsh globalknownhostsfile2 kerberosauthentication kerberostgtpassing knownhostscommand localcommand protocol proxycommand proxyjump remotecommand rhostsauthentication rhostsrsaauthentication rsaauthentication useprivilegedport userknownhostsfile2 useroaming usersh'.split(' '),
);

/** Keywords ssh reads from the line's text as it stands, not from its split words (readconf.c parse_command, parse_jump). */
const RAW_VALUE: ReadonlySet<string> = new Set(['proxycommand', 'knownhostscommand', 'localcommand', 'remotecommand', 'proxyjump']);

/** A directive's values: the split words, Match's strdelim criteria, or the raw text of a command or ProxyJump. */
function directiveOf(keyword: string, line: Extract<SshConfigLine, { kind: 'directive' }>): { values: string[]; cols: number[] } {
  if (keyword === 'match') {
    const words = matchWords(line.raw);
    return { values: words.map((word) => word.text), cols: words.map((word) => word.col) };
  }
  if (RAW_VALUE.has(keyword)) {
    // ssh skips blanks and `=` before it (strspn WHITESPACE "=").
    const skipped = /^[ \t\r\n=]*/.exec(line.raw.text)?.[0].length ?? 0;
    let text = line.raw.text.slice(skipped);
    // parse_jump cuts a ProxyJump at its first `#`, wherever it stands (`gw#primary` is gw).
    if (keyword === 'proxyjump') text = text.replace(/#.*$/, '').replace(/[ \t\r\n]+$/, '');
    return { values: [text], cols: [line.raw.col + skipped] };
  }
  return { values: line.words.map((word) => word.text), cols: line.words.map((word) => word.col) };
}

export function parseSshConfigFile(file: string, checkPermissions = false): ParsedFile {
  if (checkPermissions) checkSshConfigPermissions(file);
  const cached = parsedFiles.get(file);
  if (cached) return cached;
  const blocks: Block[] = [{ condition: null, line: 0, directives: [] }];
  // ssh reads the file line by line at each `\n` (a bare CR is no line end: it stays in the line).
  readSshConfigText(file)
    .split('\n')
    .forEach((source, index) => {
      const line = readSshConfigLine(source);
      const at = index + 1;
      if (line.kind === 'blank') return;
      if (line.kind === 'problem') throw new ConfigError([{ file, line: at, col: line.col, path: '', message: line.message }]);
      const keyword = line.keyword.toLowerCase();
      const { values, cols } = directiveOf(keyword, line);
      // `User # nobody`: nothing is left once the comment is cut (ssh: "Missing argument").
      if (values.length === 0 && keyword !== 'host' && keyword !== 'match') throw new ConfigError([{ file, line: at, col: line.keywordCol, path: '', message: `${line.keyword} has no value after it (ssh refuses the file too: "Missing argument")` }]);
      const empty = values.findIndex((value) => value === '');
      if (empty !== -1 && isSshConfigKeyword(keyword) && !TAKES_EMPTY.has(keyword)) {
        throw new ConfigError([{ file, line: at, col: cols[empty] ?? line.raw.col, path: '', message: `${line.keyword} has an empty value (ssh refuses the file too: "Missing argument")` }]);
      }
      const place = { line: at, keywordCol: line.keywordCol, col: cols[0] ?? line.raw.col, cols, source };
      if (keyword === 'host' || keyword === 'match') {
        const problem = keyword === 'match' ? matchCriteriaProblem(values) : undefined;
        if (problem) throw new ConfigError([{ file, line: at, col: place.col, path: '', message: problem }]);
        blocks.push({ condition: keyword === 'match' ? { kind: 'match', criteria: values } : { kind: 'host', patterns: values }, line: at, directives: [] });
      } else blocks[blocks.length - 1]?.directives.push({ keyword, values, ...place });
    });
  const parsed = { file, blocks };
  parsedFiles.set(file, parsed);
  return parsed;
}

/** A Host line: its words against the name as given, case-sensitively (ssh -G: `Host WEB1` is not `web1`). */
function hostLineMatches(patterns: readonly string[], name: string): boolean {
  if (patterns.some((pattern) => pattern.startsWith('!') && globMatches(pattern.slice(1), name))) return false;
  return patterns.some((pattern) => !pattern.startsWith('!') && globMatches(pattern, name));
}

/**
 * ssh's pattern-list: a negated match rules the list out whatever else matches, without case
 * unless `ignoreCase` is false (Match user and localuser). A Host line's
 * words are the patterns as they stand (a comma there is a character, `Host a,b` matches neither
 * a nor b, as in ssh -G); a Match criterion's argument is split at commas by its caller.
 */
export function patternListMatches(patterns: readonly string[], text: string, ignoreCase = true): boolean {
  const list = patterns.filter(Boolean);
  if (list.some((pattern) => pattern.startsWith('!') && globMatches(pattern.slice(1), text, ignoreCase))) return false;
  return list.some((pattern) => !pattern.startsWith('!') && globMatches(pattern, text, ignoreCase));
}

/** What each Include pattern named, found once per process as each file is parsed once (parsedFiles). */
const includeListings = new Map<string, string[]>();

/**
 * Include, as readconf.c reads it: through glob(3) with GLOB_TILDE, so `~` and `~/path` are in
 * $HOME (the passwd entry's home where HOME is unset or empty), `~user/path` in that user's home,
 * and a `~user` the password database lacks matches no file. ssh refuses `~` in the system-wide
 * file and what it includes ("bad include path"). Other relative paths are in ~/.ssh for a user's
 * file (glob expands that `~` too) and /etc/ssh for the system's. Every host of a run is resolved
 * through the same files, and Debian's own /etc/ssh/ssh_config includes ssh_config.d/*.conf: one
 * directory listing, not one per host.
 */
function includedFiles(pattern: string, at: ValuePlace, reading: Reading, globHome: string): string[] {
  let path: string;
  if (pattern.startsWith('~')) {
    if (reading.systemWide) throw new ConfigError([{ file: at.file, line: at.line, col: at.col, path: '', message: `bad include path ${pattern}: ssh refuses ~ in an Include of the system-wide file and of the files it includes` }]);
    const parts = sshTildeParts(pattern, globHome);
    if ('unknownUser' in parts) return [];
    path = parts.home + parts.rest;
  } else path = isAbsolute(pattern) ? pattern : join(reading.base, pattern);
  let files = includeListings.get(path);
  if (files === undefined) includeListings.set(path, (files = globFiles(path)));
  return files;
}

export interface HostQuery {
  /** The name given to ssh: the inventory host's address. */
  readonly host: string;
  /** The user lvsprov already knows (from the inventory), for Match user. */
  readonly user?: string | undefined;
}

interface Reading {
  /** Relative Include paths start here: ~/.ssh (in $HOME, as glob takes `~`) for a user's file, /etc/ssh for the system's. */
  readonly base: string;
  readonly checkPermissions: boolean;
  /** The system-wide file, or a file it includes: its Includes may not start with `~`. */
  readonly systemWide: boolean;
}

export interface ConfigFiles {
  /** /etc/ssh/ssh_config, read after the user's file when no file was named (-F). */
  readonly systemFile?: string | undefined;
  /** The user's file is ~/.ssh/config itself (not -F): refused when others could write it (an included file always is). */
  readonly checkPermissions?: boolean;
  /** The home whose ~/.ssh/config is the user's file: the passwd entry's unless a test says otherwise. */
  readonly home?: string | undefined;
  /** The home of `~` in an Include and of ~/.ssh for its relative paths: $HOME, as glob(3) takes it, else `home`. */
  readonly globHome?: string | undefined;
}

/** `file` (a user's: ~/.ssh/config or -F), then the system's, as ssh reads them. */
export function resolveSshConfig(file: string, query: HostQuery, files: ConfigFiles = {}): ResolvedSshConfig {
  const values = new Map<string, ConfigValue>();
  const ignored: string[] = [];
  const localUser = systemUserName() ?? process.env.USER ?? '';
  const home = files.home ?? sshHomeDir();
  const globHome = files.globHome ?? (process.env.HOME || home);
  const host = query.host.toLowerCase();
  const current = (keyword: string): string | undefined => values.get(keyword)?.values[0];

  // Match host sees the HostName obtained so far with its %h expanded (readconf.c match_cfg_line).
  const hostNameSoFar = (): string => current('hostname')?.replace(/%(.)/g, (whole, letter: string) => (letter === 'h' ? host : letter === '%' ? '%' : whole)) ?? host;
  // `Match final` (or `!final`) anywhere, or a CanonicalizeHostname other than no, makes ssh read
  // the files a second time, in which `final` and `canonical` match; values already obtained keep
  // winning.
  let finalPass = false;
  let wantFinalPass = false;
  /** `report`: say a skipped `exec` block in `ignored` (not for a block read for ssh's checks alone). */
  const matchApplies = (criteria: string[], where: string, report = true): boolean => {
    // Every criterion is read, as in ssh (a `final` after one that fails still asks for the pass).
    let result = true;
    let unevaluated: string | undefined;
    for (let i = 0; i < criteria.length; i++) {
      // `!host web*` negates one criterion (readconf.c match_cfg_line).
      const negated = criteria[i]?.startsWith('!') ?? false;
      const criterion = criteria[i]?.slice(negated ? 1 : 0).toLowerCase() ?? '';
      // `Match !all` matches nothing, as in ssh.
      if (criterion === 'all') {
        if (negated) result = false;
        continue;
      }
      if (criterion === 'final' || criterion === 'canonical') {
        if (criterion === 'final') wantFinalPass = true;
        if (finalPass === negated) result = false;
        continue;
      }
      const argument = criteria[++i] ?? '';
      const subject =
        criterion === 'host' ? hostNameSoFar() : criterion === 'originalhost' ? host : criterion === 'user' ? (query.user ?? current('user') ?? localUser) : criterion === 'localuser' ? localUser : undefined;
      if (subject === undefined) unevaluated ??= criterion;
      // Host names without case (match.c match_hostname), user names with it (match_pattern_list
      // with dolower 0): `Match user deploy` is not user Deploy, as in ssh -G.
      else if (patternListMatches(argument.split(','), subject, criterion === 'host' || criterion === 'originalhost') === negated) result = false;
    }
    // Said only where it decides: when another criterion fails, ssh skips the block whatever `exec` returns.
    if (unevaluated !== undefined && result && report) ignored.push(`${where}: Match ${unevaluated} is not evaluated by lvsprov; the block is skipped`);
    return result && unevaluated === undefined;
  };

  // An included file is checked as ~/.ssh/config is, whoever included it (-F or the system's file
  // too): readconf.c reads every Include with SSHCONF_CHECKPERM, so another user cannot redirect hosts.
  const includeFiles = (parsed: ParsedFile, directive: Directive, depth: number, reading: Reading, inactive: boolean): void => {
    // readconf.c's READCONF_MAX_DEPTH: 16 levels of Include below the file ssh was given.
    if (depth + 1 > 16) throw new ConfigError([{ file: parsed.file, line: directive.line, col: directive.col, path: '', message: 'Include nested too deeply (more than 16 levels, as ssh allows: an Include loop?)' }]);
    directive.values.forEach((pattern, index) => {
      const at = { file: parsed.file, line: directive.line, col: directive.cols[index] ?? directive.col, source: directive.source };
      for (const included of includedFiles(pattern, at, reading, globHome)) {
        // A folder a glob matches is opened by ssh, checked, and yields no line.
        if (statSync(included, { throwIfNoEntry: false })?.isDirectory()) checkSshConfigPermissions(included);
        else walk(parseSshConfigFile(included, true), depth + 1, reading, inactive);
      }
    });
  };

  const apply = (parsed: ParsedFile, directive: Directive, section: string, depth: number, reading: Reading): void => {
    const where = `${parsed.file}:${directive.line}`;
    if (directive.keyword === 'include') return includeFiles(parsed, directive, depth, reading, false);
    // ssh fixes the name it connects to before the second reading (ssh.c sets options.hostname to
    // it), so a HostName read there never wins.
    if (finalPass && directive.keyword === 'hostname') return;
    const origin = `${where}${section ? ` (${section})` : ''}`;
    const placeOf = (value: string): ValuePlace => ({ file: parsed.file, line: directive.line, col: directive.cols[directive.values.indexOf(value)] ?? directive.col, source: directive.source });
    // ssh's limits, where a value is taken: 32 known_hosts files on a line, 100 identity and certificate files in all.
    const limit = maxEntries[directive.keyword];
    const count = directive.values.length + (listKeywords.has(directive.keyword) ? (values.get(directive.keyword)?.values.length ?? 0) : 0);
    if (limit !== undefined && count > limit && (listKeywords.has(directive.keyword) || !values.has(directive.keyword))) {
      throw new ConfigError([{ file: parsed.file, line: directive.line, col: directive.col, path: '', message: `more than ${limit} ${directive.keyword} files (ssh refuses them too: "too many")` }]);
    }
    if (listKeywords.has(directive.keyword)) {
      const before = values.get(directive.keyword);
      // A file already listed is not added again (ssh ignores a repeated IdentityFile).
      const added = directive.values.filter((value) => !before?.values.includes(value));
      if (added.length === 0) return;
      values.set(directive.keyword, {
        values: [...(before?.values ?? []), ...added],
        places: [...(before?.places ?? []), ...added.map(placeOf)],
        origin: before ? `${before.origin}; ${origin}` : origin,
        file: before?.file ?? parsed.file,
        line: before?.line ?? directive.line,
        keywordCol: before?.keywordCol ?? directive.keywordCol,
        col: before?.col ?? directive.col,
        order: before?.order ?? values.size,
      });
    } else if (!values.has(directive.keyword) || (NONE_IS_UNSET.has(directive.keyword) && values.get(directive.keyword)?.values[0] === 'none')) {
      values.set(directive.keyword, { values: directive.values, places: directive.values.map(placeOf), origin, file: parsed.file, line: directive.line, keywordCol: directive.keywordCol, col: directive.col, order: values.size });
    }
  };

  // What ssh refuses on any line, in a block that applies or not (it reads every line, and the
  // files an Include names there): a keyword it does not know, a ProxyJump it cannot read, a value
  // it cannot read (a yes/no keyword's word, a port, a time).
  const checkLine = (parsed: ParsedFile, directive: Directive): void => {
    const unknown = unknownKeywordProblem(directive.keyword, values.get('ignoreunknown')?.values);
    const jump = directive.keyword === 'proxyjump' ? proxyJumpProblem(directive.values) : undefined;
    const problem = unknown ?? jump ?? lineValueProblem(directive.keyword, directive.values);
    if (problem !== undefined) throw new ConfigError([{ file: parsed.file, line: directive.line, col: unknown !== undefined ? directive.keywordCol : directive.col, path: '', message: problem }]);
  };

  /** `inactive`: read under a block that does not apply, for ssh's checks alone (SSHCONF_NEVERMATCH). */
  const walk = (parsed: ParsedFile, depth: number, reading: Reading, inactive = false): void => {
    for (const block of parsed.blocks) {
      const where = `${parsed.file}:${block.line}`;
      let section = '';
      let applies = !inactive;
      if (inactive) {
        // Nothing here applies; the lines are still checked below. Its Match lines are still
        // evaluated, as ssh evaluates them under SSHCONF_NEVERMATCH (readconf.c oMatch calls
        // match_cfg_line before it looks at the flag): a `final` in a file an inactive block
        // includes asks for the second reading too (ssh -G), in which that block may apply.
        if (block.condition?.kind === 'match') matchApplies(block.condition.criteria, where, false);
      } else if (block.condition?.kind === 'host') {
        // The second reading matches Host lines against the HostName obtained, lowercased (ssh.c
        // re-parses with the canonical name: `Host real.example` applies to an alias of it).
        applies = hostLineMatches(block.condition.patterns, finalPass ? hostNameSoFar().toLowerCase() : query.host);
        section = `Host ${block.condition.patterns.join(' ')}`;
      } else if (block.condition?.kind === 'match') {
        applies = matchApplies(block.condition.criteria, where);
        section = `Match ${block.condition.criteria.join(' ')}`;
      }
      for (const directive of block.directives) {
        checkLine(parsed, directive);
        // One IgnoreUnknown names is passed over, as ssh passes it over.
        if (applies && isSshConfigKeyword(directive.keyword)) apply(parsed, directive, section, depth, reading);
        else if (!applies && directive.keyword === 'include') includeFiles(parsed, directive, depth, reading, true);
      }
    }
  };

  // Relative Includes and the permission check follow the file they start from.
  const user: Reading = { base: join(globHome, '.ssh'), checkPermissions: files.checkPermissions === true, systemWide: false };
  const walkAll = (): void => {
    walk(parseSshConfigFile(file, user.checkPermissions), 0, user);
    if (files.systemFile !== undefined) walk(parseSshConfigFile(files.systemFile), 0, { base: dirname(files.systemFile), checkPermissions: false, systemWide: true });
  };
  walkAll();
  // ssh reads the files again for CanonicalizeHostname too, whether or not a name changed.
  const canonicalize = current('canonicalizehostname')?.toLowerCase();
  if (wantFinalPass || (canonicalize !== undefined && !['no', 'false'].includes(canonicalize))) {
    finalPass = true;
    walkAll();
  }
  return { values, ignored: [...new Set(ignored)] };
}

/** ~/.ssh/config in the passwd entry's home: ssh reads it whatever $HOME says. */
export const defaultSshConfigFile = (home = sshHomeDir()): string => join(home, '.ssh', 'config');
/** Read after the user's file unless a file is named (-F, ssh.config_file), as ssh does. */
export const systemSshConfigFile = '/etc/ssh/ssh_config';
