import { existsSync, statSync } from 'node:fs';
import { sshHomeDir, systemUserName } from '../transport/local-user.js';
import { serverAliveDefaults } from '../transport/server-alive.js';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { defaultSshConfigFile, resolveSshConfig, systemSshConfigFile, type ConfigValue, type ResolvedSshConfig } from '../transport/ssh-config.js';
import type { ConnectionTarget, JumpTarget, ServerAlive, StrictHostKeyChecking } from '../transport/types.js';
import type { LoadedInventory } from './inventory.js';
import type { SshSettings } from './inventory-schema.js';
import { expandPath } from './local-path.js';
import { sshTildeParts } from './ssh-tilde.js';
import { own } from './own.js';
import { isIpv4 } from '../net/ipv4.js';
import { checkedSshConfigValue } from './ssh-config-values.js';
import { sshTimeSeconds } from '../transport/ssh-config-line-values.js';
import { expandTokens, sshTokens, type Tokens } from './ssh-tokens.js';
import { notAppliedKeywords, refuseUnsafeKeywords } from './ssh-config-unsupported.js';
import { jumpChain, jumpEntries, proxyJumpTokens, proxyOf, refuseProxyCommand, type JumpSpec } from './proxy-chain.js';

// How to reach each host, from three sources, the first that sets a value wins: the inventory
// (the host's own `ssh` block, then the top-level `ssh`), the OpenSSH client config (-F, else the
// inventory's ssh.config_file, else ~/.ssh/config) looked up by the host's address as `ssh ADDRESS`
// would, then lvsprov's defaults. `origins` says, per value, where it came from (`lvsprov ssh-config`).

export interface ResolvedConnection {
  readonly target: ConnectionTarget;
  readonly origins: Readonly<Record<string, string>>;
  /** ssh_config IdentityFile entries that do not exist (skipped, as ssh skips them). */
  readonly missingKeys: readonly string[];
  /** The ssh_config files read, in order (the user's, then the system's when no file was named). */
  readonly sshConfigFiles: readonly string[];
  readonly ignored: readonly string[];
}

export interface ConnectionOptions {
  /** -F: an ssh_config file, or `none`. */
  readonly sshConfigFile?: string | undefined;
  /** Read after ~/.ssh/config when no file is named; /etc/ssh/ssh_config unless a test says otherwise. */
  readonly systemSshConfigFile?: string;
  /** The home of ~/.ssh/config, ~ and %d: the passwd entry's, as ssh takes it whatever $HOME says, unless a test says otherwise. */
  readonly home?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** For a command about to connect: the inventory's private_key files must exist (validate needs no keys). */
  readonly requireKeyFiles?: boolean;
}

// ssh 9.2's default identity files, in its order (ssh -v: "Will attempt key"), less the security-key
// (_sk), XMSS and DSA ones, which ssh2 cannot sign with.
const defaultKeys = (home: string): string[] => ['id_rsa', 'id_ecdsa', 'id_ed25519'].map((name) => join(home, '.ssh', name));
const localUser = (env: NodeJS.ProcessEnv): string => systemUserName() ?? env.USER ?? 'root';

function sshConfigFileFor(inventory: LoadedInventory, host: string, ssh: SshSettings, flag: string | undefined, home: string): string | undefined {
  // ssh reads `-F none` in any case (strcasecmp): `-F NONE` is no file too.
  if (flag?.toLowerCase() === 'none') return undefined;
  const chosen = flag ?? (ssh.config_file === undefined ? defaultSshConfigFile(home) : ssh.config_file === 'none' ? 'none' : expandPath(ssh.config_file, inventory.dir));
  if (chosen === 'none') return undefined;
  // A missing ~/.ssh/config is no config; a file named by -F or the inventory that is missing is a mistake.
  if ((flag !== undefined || ssh.config_file !== undefined) && !existsSync(chosen)) {
    const message = `the ssh config file ${chosen} does not exist (\`none\` reads none)`;
    if (flag !== undefined) throw new ConfigError([{ file: '--ssh-config', line: 1, col: 1, path: '', message }]);
    const path = own(inventory.data.hosts, host)?.ssh?.config_file !== undefined ? ['hosts', host, 'ssh', 'config_file'] : ['ssh', 'config_file'];
    throw new ConfigError([inventory.source.problem(path, message)]);
  }
  return chosen;
}

// ssh reads true/false wherever it reads yes/no (readconf.c's flag and multistate tables).
const strictAcceptsNew = (value: string | undefined): boolean => value !== undefined && ['accept-new', 'no', 'off', 'false'].includes(value.toLowerCase());
const strictOf = (value: string | undefined): StrictHostKeyChecking => {
  const lower = value?.toLowerCase();
  if (lower === 'accept-new') return 'accept-new';
  if (lower === 'no' || lower === 'off' || lower === 'false') return 'no';
  if (lower === 'yes' || lower === 'true') return 'yes';
  return 'ask';
};
const flagSet = (value: string | undefined): boolean => ['yes', 'true'].includes(value?.toLowerCase() ?? '');

export { parseJumpEntry } from './proxy-chain.js';

/** A list keyword's files less `none`, which ssh skips (IdentityFile none, CertificateFile none). */
const namedFiles = (found: ConfigValue | undefined): readonly string[] => (found?.values ?? []).filter((file) => file.toLowerCase() !== 'none');

/** CertificateFile's files that exist (ssh passes a missing one over), `none` naming none; undefined when not set. */
function certificateFilesOf(config: ResolvedSshConfig, expand: (file: string, found: ConfigValue) => string): string[] | undefined {
  const found = config.values.get('certificatefile');
  if (!found) return undefined;
  return namedFiles(found).map((file) => expand(file, found)).filter((file) => existsSync(file));
}

/**
 * The name ssh connects to once its config is read: lowercased unless it is an address (ssh.c
 * lowercases it after expanding HostName, and %h, %C, known_hosts and certificate principals use
 * that; its HostKeyAlias is lowercased likewise). Host lines were matched against the name as given.
 */
const reachedName = (name: string): string => (name.includes(':') || isIpv4(name as unknown) ? name : name.toLowerCase());

export function resolveConnection(inventory: LoadedInventory, host: string, options: ConnectionOptions = {}): ResolvedConnection {
  const env = options.env ?? process.env;
  const entry = own(inventory.data.hosts, host);
  if (!entry) throw new Error(`unknown host ${host}`);
  const ssh: SshSettings = { ...inventory.data.ssh, ...(entry.ssh ?? {}) };
  const base = inventory.dir;
  const fromInventory = (key: keyof SshSettings): string => `${inventory.file}: ${entry.ssh?.[key] !== undefined ? `hosts.${host}.ssh.${key}` : `ssh.${key}`}`;
  const origins: Record<string, string> = {};
  const home = options.home ?? sshHomeDir();
  const configFile = sshConfigFileFor(inventory, host, ssh, options.sshConfigFile, home);
  const empty: ResolvedSshConfig = { values: new Map(), ignored: [] };
  // As ssh: the system-wide file after the user's, unless a file was named (-F, ssh.config_file).
  const systemFile = configFile !== undefined && options.sshConfigFile === undefined && ssh.config_file === undefined ? (options.systemSshConfigFile ?? systemSshConfigFile) : undefined;
  const lookup = (name: string, user?: string): ResolvedSshConfig => (configFile ? resolveSshConfig(configFile, { host: name, user }, { systemFile, checkPermissions: systemFile !== undefined, home, globHome: env.HOME || home }) : empty);
  const config = lookup(entry.address, ssh.user);
  refuseUnsafeKeywords(config, `${host}, address ${entry.address}`);
  const notes = [...config.ignored];

  /** The inventory's value, else ssh_config's, else the default; the winner's origin is recorded. */
  function pick<T>(key: string, inventoryKey: keyof SshSettings | undefined, keyword: string | undefined, convert: (value: string) => T, fallback: T, fallbackOrigin: string, from = config, into = origins): T {
    if (inventoryKey && ssh[inventoryKey] !== undefined) {
      into[key] = fromInventory(inventoryKey);
      return ssh[inventoryKey] as T;
    }
    const found = keyword ? from.values.get(keyword) : undefined;
    if (keyword && found?.values[0] !== undefined) {
      into[key] = found.origin;
      // A HostName is checked once its %h is expanded; the others as written.
      const value = keyword === 'hostname' ? found.values[0] : checkedSshConfigValue(keyword, found, found.values[0]);
      return convert(value);
    }
    into[key] = fallbackOrigin;
    return fallback;
  }

  // As ssh: the user this process runs as (the password database's name), not $USER.
  const user = pick('user', 'user', 'user', String, localUser(env), 'default: the local user');
  const port = pick('port', 'port', 'port', Number, 22, 'default');
  const hostName = (found: ConfigValue | undefined, value: string, name: string): string => (found ? checkedSshConfigValue('hostname', found, expandTokens(value, { h: name }, found)) : value);
  const address = reachedName(pick('hostname', undefined, 'hostname', (value) => hostName(config.values.get('hostname'), value, entry.address), entry.address, `${inventory.file}: hosts.${host}.address`));
  const hostKeyAlias = config.values.get('hostkeyalias');
  const tokens = sshTokens({ host: address, original: entry.address, port, user, localUser: localUser(env), hostKeyAlias: hostKeyAlias?.values[0]?.toLowerCase(), home });
  // As ssh (ssh.c): `~` first (the passwd entry's home, not $HOME; `~user`, that user's), then the
  // %-tokens and ${NAME}, so a variable holding `~` stays a relative path; a relative path is
  // relative to the current directory (ssh opens it as it is).
  const tildeParts = (file: string, found: ConfigValue | undefined): { readonly home: string; readonly rest: string } => {
    const parts = sshTildeParts(file, home);
    if (!('unknownUser' in parts)) return parts;
    const place = found?.places?.[found.values.indexOf(file)] ?? found;
    throw new ConfigError([{ file: place?.file ?? '', line: place?.line ?? 0, col: place?.col ?? 1, path: '', message: `no user ${parts.unknownUser} in the password database, for ${JSON.stringify(file)} (ssh stops too: "No such user")` }]);
  };
  const tilde = (file: string, found: ConfigValue | undefined): string => {
    const { home: base, rest } = tildeParts(file, found);
    return base + rest;
  };
  const fromCwd = (file: string): string => (isAbsolute(file) ? file : resolve(process.cwd(), file));
  // The tokens of what follows the `~` part, as written, so that an unknown one is pointed at in its line.
  const withTokens = (file: string, found: ConfigValue | undefined, using: Tokens): string => {
    const { home: base, rest } = tildeParts(file, found);
    return base + expandTokens(rest, using, found, env);
  };
  const expandedPath = (file: string, found: ConfigValue | undefined, using = tokens): string => fromCwd(withTokens(file, found, using));
  const defaultConnectTimeout = 10;
  // How long an endpoint is waited for, from its own lookup: ssh reaches a jump host by running
  // `ssh JUMP`, which takes that host's ConnectTimeout and ServerAlive* (ssh -G JUMP), never the
  // target's. The inventory's values serve every connection, as its known_hosts does.
  const timingsOf = (from: ResolvedSshConfig, into: Record<string, string>): { connectTimeoutMs: number; serverAlive: ServerAlive } => {
    // ssh_config's `ConnectTimeout 0` or `none` leaves ssh to the kernel's connect timeout and no
    // limit on the handshake; lvsprov keeps its own default rather than wait without end.
    const connectTimeout = pick('connect_timeout', 'connect_timeout', 'connecttimeout', (value) => Number(value) || defaultConnectTimeout, defaultConnectTimeout, 'default', from, into);
    const noTimeout = ssh.connect_timeout === undefined ? from.values.get('connecttimeout')?.values[0] : undefined;
    if (noTimeout !== undefined && !(Number(sshTimeSeconds(noTimeout)) > 0)) into.connect_timeout = `${into.connect_timeout} (ConnectTimeout ${noTimeout}: no timeout in ssh; lvsprov's default)`;
    const serverAlive = {
      // `ServerAliveInterval none` is ssh's "not set": lvsprov's default, as for ConnectTimeout none.
      intervalMs: pick('server_alive_interval', 'server_alive_interval', 'serveraliveinterval', (value) => (value === 'none' ? serverAliveDefaults.intervalMs / 1000 : Number(value)), serverAliveDefaults.intervalMs / 1000, 'default', from, into) * 1000,
      countMax: pick('server_alive_count_max', 'server_alive_count_max', 'serveralivecountmax', Number, serverAliveDefaults.countMax, 'default', from, into),
    };
    if (ssh.server_alive_interval === undefined && from.values.get('serveraliveinterval')?.values[0] === 'none') into.server_alive_interval = `${into.server_alive_interval} (ServerAliveInterval none: not set in ssh; lvsprov's default)`;
    return { connectTimeoutMs: connectTimeout * 1000, serverAlive };
  };
  const { connectTimeoutMs, serverAlive } = timingsOf(config, origins);
  // Not behind a jump host: ssh turns CheckHostIP off for a host reached through a proxy.
  const checkHostIpLine = config.values.get('checkhostip');
  const behindProxy = Boolean(ssh.jump) || proxyOf(config).kind !== 'none';
  const checkHostIp = flagSet(checkHostIpLine?.values[0]) && !behindProxy;
  origins.check_host_ip = checkHostIpLine === undefined ? 'default: no' : flagSet(checkHostIpLine.values[0]) && behindProxy ? `${checkHostIpLine.origin}; off behind a jump host, as ssh` : checkHostIpLine.origin;

  let passphrase: string | undefined;
  if (ssh.passphrase_env) {
    passphrase = env[ssh.passphrase_env];
    if (passphrase === undefined) {
      throw new ConfigError([
        inventory.source.problem(entry.ssh?.passphrase_env ? ['hosts', host, 'ssh', 'passphrase_env'] : ['ssh', 'passphrase_env'], `environment variable ${ssh.passphrase_env} is not set`),
      ]);
    }
  }

  // Keys: the inventory's private_key, else every IdentityFile that exists, else (without an agent) the default key files.
  // `IdentityFile none` names no file (ssh skips it) but, like any IdentityFile, leaves the default files out.
  const identityLine = config.values.get('identityfile');
  const identityFiles = namedFiles(identityLine).map((file) => expandedPath(file, identityLine));
  const missingKeys = identityFiles.filter((file) => !existsSync(file));
  const identitiesOnly = flagSet(config.values.get('identitiesonly')?.values[0]);
  const identityAgent = config.values.get('identityagent');
  let agent: string | undefined = ssh.agent === false ? undefined : env.SSH_AUTH_SOCK || undefined;
  origins.agent = ssh.agent !== undefined ? fromInventory('agent') : 'default: $SSH_AUTH_SOCK';
  /** An IdentityAgent line's socket: none, $SSH_AUTH_SOCK, the one a `$NAME` variable names, or a path. */
  const agentSocket = (found: ConfigValue, value: string, using = tokens): string | undefined => {
    // `$NAME` (not `${NAME}`): the socket named by that variable, none when it is not set (ssh's older form).
    const variable = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(value)?.[1];
    return value.toLowerCase() === 'none' ? undefined : value === 'SSH_AUTH_SOCK' ? env.SSH_AUTH_SOCK || undefined : variable !== undefined ? env[variable] || undefined : expandedPath(value, found, using);
  };
  if (ssh.agent === undefined && identityAgent?.values[0]) {
    agent = agentSocket(identityAgent, identityAgent.values[0]);
    origins.agent = identityAgent.origin;
  }
  let privateKeys: string[];
  let defaultKeyFiles = false;
  if (ssh.private_key) {
    privateKeys = [expandPath(ssh.private_key, base)];
    origins.identity_files = fromInventory('private_key');
    const keyProblem = options.requireKeyFiles ? keyFileProblem(privateKeys[0]!) : undefined;
    if (keyProblem !== undefined) {
      const path = entry.ssh?.private_key !== undefined ? ['hosts', host, 'ssh', 'private_key'] : ['ssh', 'private_key'];
      throw new ConfigError([inventory.source.problem(path, `private key file ${privateKeys[0]} ${keyProblem} (for host ${host})`)]);
    }
  } else if (identityLine) {
    privateKeys = identityFiles.filter((file) => existsSync(file));
    origins.identity_files = config.values.get('identityfile')?.origin ?? '';
  } else {
    // Every default file that exists, as ssh tries each (the one the host takes may be the second),
    // with the agent's keys too when there is an agent (ssh -v: the agent's keys, then the files).
    privateKeys = defaultKeys(home).filter((key) => existsSync(key));
    defaultKeyFiles = true;
    origins.identity_files = 'default: each of ~/.ssh/id_rsa, id_ecdsa, id_ed25519 that exists';
  }
  // CertificateFile: offered before the keys, each signed by the key it certifies; without one, each
  // key file's KEY-cert.pub (the transport finds it, as ssh loads it beside the key).
  const certificateFiles = certificateFilesOf(config, (file, found) => expandedPath(file, found));
  if (certificateFiles) origins.certificate_files = config.values.get('certificatefile')?.origin ?? '';
  // IdentitiesOnly: ssh offers none of the agent's own keys, but still lets the agent sign for the
  // identity files' keys (an encrypted key loaded with ssh-add is used so).
  let agentKeys: readonly string[] | undefined;
  if (identitiesOnly && ssh.agent === undefined && agent) {
    const only = `${config.values.get('identitiesonly')?.origin ?? ''}: IdentitiesOnly yes`;
    if (privateKeys.length === 0) {
      agent = undefined;
      origins.agent = only;
    } else {
      agentKeys = privateKeys;
      origins.agent = `${origins.agent}, for the identity files' keys alone (${only})`;
    }
  }

  // An endpoint's known_hosts files from its own ssh_config lookup (`none` for none), else ssh's defaults.
  const knownHostsOf = (from: ResolvedSshConfig, keyword: 'userknownhostsfile' | 'globalknownhostsfile', using: Tokens): string[] => {
    const found = from.values.get(keyword);
    const defaults = keyword === 'userknownhostsfile' ? ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'] : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'];
    // ssh.c expands %-tokens and ${NAME} in UserKnownHostsFile alone, and `~` in both just before it
    // connects, a UserKnownHostsFile's again after its tokens (`${DIR}/kh` with DIR=~ is ~/kh in the
    // home): `ssh -G` prints them before that.
    const expanded = (file: string): string => fromCwd(keyword === 'userknownhostsfile' ? tilde(withTokens(file, found, using), found) : tilde(file, found));
    return (found?.values ?? defaults).filter((file) => file.toLowerCase() !== 'none').map(expanded);
  };
  const inventoryKnownHosts = ssh.known_hosts ? [expandPath(ssh.known_hosts, base)] : undefined;
  const knownHostsFiles = inventoryKnownHosts ?? knownHostsOf(config, 'userknownhostsfile', tokens);
  origins.known_hosts = ssh.known_hosts ? fromInventory('known_hosts') : (config.values.get('userknownhostsfile')?.origin ?? 'default');
  const globalKnownHostsFiles = knownHostsOf(config, 'globalknownhostsfile', tokens);
  origins.global_known_hosts = config.values.get('globalknownhostsfile')?.origin ?? 'default';
  if (hostKeyAlias) origins.host_key_alias = hostKeyAlias.origin;
  const hashKnownHosts = config.values.get('hashknownhosts');
  origins.hash_known_hosts = hashKnownHosts?.origin ?? 'default: no (names recorded as they are)';
  const strict = config.values.get('stricthostkeychecking');
  origins.strict_host_key_checking = strict?.origin ?? 'default: ask (an unknown key is refused unless --accept-new-host-keys)';

  const endpoint = {
    address,
    port,
    user,
    privateKeys,
    ...(passphrase !== undefined ? { passphrase } : {}),
    ...(certificateFiles ? { certificateFiles } : {}),
    ...(agent ? { agent } : {}),
    ...(agent && agentKeys ? { agentKeys } : {}),
    ...(defaultKeyFiles ? { defaultKeyFiles } : {}),
    knownHostsFiles,
    globalKnownHostsFiles,
    ...(hostKeyAlias?.values[0] ? { hostKeyAlias: hostKeyAlias.values[0].toLowerCase() } : {}),
    hashKnownHosts: flagSet(hashKnownHosts?.values[0]),
    acceptNewHostKeys: strictAcceptsNew(strict?.values[0]),
    strictHostKeyChecking: strictOf(strict?.values[0]),
    checkHostIp,
    connectTimeoutMs,
    serverAlive,
  };

  // Jump hosts: the inventory's ssh.jump, else ProxyJump (`none` for none), each entry looked up in
  // ssh_config by its own name, and the first one's own ProxyJump before it (proxy-chain.ts); what a
  // jump host does not set comes from the host: keys, agent, passphrase.
  let entries: JumpSpec[] = [];
  if (ssh.jump) {
    entries = [{ host: ssh.jump.address, user: ssh.jump.user ?? ssh.user, port: ssh.jump.port, privateKey: ssh.jump.private_key, knownHosts: ssh.jump.known_hosts, origin: fromInventory('jump') }];
    origins.proxy_jump = fromInventory('jump');
  } else {
    const proxy = proxyOf(config);
    if (proxy.kind === 'command') refuseProxyCommand(proxy.value, `${host}, address ${entry.address}`);
    // ssh runs ProxyJump as an `ssh -W` command and expands %h %n %p %r in it (ssh -v: `ProxyJump
    // gw-%h` executes `ssh ... gw-192.0.2.40`).
    if (proxy.kind === 'jump') entries = jumpEntries(proxy.value, proxyJumpTokens(address, entry.address, port, user));
    const decided = proxy.kind === 'jump' ? proxy.value : [config.values.get('proxyjump'), config.values.get('proxycommand')].filter((value) => value !== undefined).sort((a, b) => a.order - b.order)[0];
    if (decided) origins.proxy_jump = decided.origin;
  }
  // A jump host's address, port and user, as `ssh [-l USER] [-p PORT] JUMP` resolves them.
  const jumpEndpoint = (spec: JumpSpec): { jumpConfig: ResolvedSshConfig; jumpAddress: string; jumpPort: number; jumpUser: string } => {
    // ssh reaches it as `ssh -l USER -p PORT JUMP`: its own blocks are read for that user (Match user).
    const jumpConfig = lookup(spec.host, spec.user);
    const found = jumpConfig.values.get('hostname');
    const jumpAddress = reachedName(found?.values[0] ? hostName(found, found.values[0], spec.host) : spec.host);
    const jumpPortFound = jumpConfig.values.get('port');
    const jumpPort = spec.port ?? (jumpPortFound?.values[0] ? Number(checkedSshConfigValue('port', jumpPortFound, jumpPortFound.values[0])) : 22);
    const jumpUser = spec.user ?? jumpConfig.values.get('user')?.values[0] ?? localUser(env);
    return { jumpConfig, jumpAddress, jumpPort, jumpUser };
  };
  // Notes once the route is known: ssh skips CheckHostIP, and CanonicalizeHostname yes, behind a jump host.
  notes.push(...notAppliedKeywords(config, { name: address, direct: entries.length === 0 }));
  const specs = jumpChain(entries, (spec) => lookup(spec.host, spec.user), (spec) => {
    const { jumpAddress, jumpPort, jumpUser } = jumpEndpoint(spec);
    return proxyJumpTokens(jumpAddress, spec.host, jumpPort, jumpUser);
  });
  const jumps: JumpTarget[] = specs.map((spec, index) => {
    const { jumpConfig, jumpAddress, jumpPort, jumpUser } = jumpEndpoint(spec);
    refuseUnsafeKeywords(jumpConfig, `jump host ${spec.host}`);
    // The first jump host is connected to straight; each later one through those before it.
    notes.push(...[...jumpConfig.ignored, ...notAppliedKeywords(jumpConfig, { name: jumpAddress, direct: index === 0 })].map((note) => `jump host ${spec.host}: ${note}`));
    const get = (keyword: string): string | undefined => jumpConfig.values.get(keyword)?.values[0];
    const jumpTokens = sshTokens({ host: jumpAddress, original: spec.host, port: jumpPort, user: jumpUser, localUser: localUser(env), hostKeyAlias: get('hostkeyalias')?.toLowerCase(), home });
    const jumpIdentityLine = jumpConfig.values.get('identityfile');
    const ownKeys = spec.privateKey
      ? [expandPath(spec.privateKey, base)]
      : namedFiles(jumpIdentityLine).map((file) => expandedPath(file, jumpIdentityLine, jumpTokens)).filter((file) => existsSync(file));
    // A jump host whose block names an IdentityFile has those keys alone, as the `ssh -W ... JUMP`
    // that ssh runs for it: `IdentityFile none` there is no file at all, not the host's keys nor
    // the default files (only the agent's keys). One that names none takes the host's.
    const ownIdentity = spec.privateKey !== undefined || jumpIdentityLine !== undefined;
    const jumpKeys = ownIdentity ? ownKeys : privateKeys;
    // Its own IdentitiesOnly where its block says one, as that ssh reads it; else the host's.
    const identitiesOnlyLine = jumpConfig.values.get('identitiesonly');
    const jumpIdentitiesOnly = ssh.agent === undefined && (identitiesOnlyLine ? flagSet(identitiesOnlyLine.values[0]) : identitiesOnly);
    // Its own IdentityAgent where its block sets one (`none` there: no agent), as that ssh reads it.
    const jumpAgentLine = jumpConfig.values.get('identityagent');
    const agentOfJump = ssh.agent === undefined && jumpAgentLine?.values[0] ? agentSocket(jumpAgentLine, jumpAgentLine.values[0], jumpTokens) : endpoint.agent;
    const jumpAgent = jumpIdentitiesOnly && jumpKeys.length === 0 ? undefined : agentOfJump;
    // Its own known_hosts files, as `ssh JUMP` reads them (never the host's UserKnownHostsFile);
    // the inventory's ssh.known_hosts serves the jump hosts too.
    const jumpKnownHosts = spec.knownHosts ? [expandPath(spec.knownHosts, base)] : (inventoryKnownHosts ?? knownHostsOf(jumpConfig, 'userknownhostsfile', jumpTokens));
    const ownCertificates = certificateFilesOf(jumpConfig, (file, found) => expandedPath(file, found, jumpTokens));
    return {
      ...endpoint,
      label: `jump host ${jumpUser}@${jumpAddress}:${jumpPort}`,
      address: jumpAddress,
      port: jumpPort,
      user: jumpUser,
      privateKeys: jumpKeys,
      // Its own CertificateFile; else the host's when it signs with the host's keys.
      certificateFiles: ownCertificates ?? (ownIdentity ? undefined : certificateFiles),
      defaultKeyFiles: !ownIdentity && defaultKeyFiles,
      agent: jumpAgent,
      agentKeys: jumpAgent && jumpIdentitiesOnly ? jumpKeys : undefined,
      knownHostsFiles: jumpKnownHosts,
      globalKnownHostsFiles: knownHostsOf(jumpConfig, 'globalknownhostsfile', jumpTokens),
      // Its own StrictHostKeyChecking, never the host's: ssh reaches a jump host as a host of its own.
      acceptNewHostKeys: strictAcceptsNew(get('stricthostkeychecking')),
      strictHostKeyChecking: strictOf(get('stricthostkeychecking')),
      // The first jump host is reached straight; a later one through the jumps before it.
      checkHostIp: index === 0 && flagSet(get('checkhostip')),
      hashKnownHosts: flagSet(get('hashknownhosts')),
      // Its own HostKeyAlias, never the host's (spread in with the rest of the endpoint).
      hostKeyAlias: get('hostkeyalias')?.toLowerCase(),
      ...timingsOf(jumpConfig, {}),
    };
  });

  return {
    target: { name: host, ...endpoint, become: ssh.become ?? false, jumps },
    origins,
    missingKeys,
    sshConfigFiles: [configFile, systemFile].filter((file) => file !== undefined),
    ignored: [...new Set(notes)],
  };
}

export function connectionTarget(inventory: LoadedInventory, host: string, options: ConnectionOptions = {}): ConnectionTarget {
  return resolveConnection(inventory, host, options).target;
}

/**
 * Why the inventory's private_key cannot be a key file, known before any connection: missing, or
 * a folder, device or FIFO (which the transport refuses to read, host by host, as unreachable).
 */
function keyFileProblem(file: string): string | undefined {
  const info = statSync(file, { throwIfNoEntry: false });
  if (info === undefined) return 'does not exist';
  return info.isFile() ? undefined : `is not a regular file (${info.isDirectory() ? 'a folder' : 'a device, FIFO or socket'}); name the key file`;
}
