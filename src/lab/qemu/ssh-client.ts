import { command } from '../../shell/quote.js';
import { guestHostAlias } from './guest-ssh.js';
import { run, type RunResult } from './run.js';
import { requireTool } from './tools.js';

// Commands reach the guest through the system OpenSSH client. A login costs seconds under TCG,
// so one master connection (ControlMaster/ControlPersist) carries every later command.

export interface GuestEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly clientKey: string;
  readonly knownHosts: string;
  readonly controlPath: string;
}

/** A command for the guest: an argv (each word quoted) or a whole sh script (sent on stdin). */
export type GuestCommand = readonly string[] | { readonly script: string };

export interface GuestRunOptions {
  readonly timeoutMs?: number;
  /** Data for the command's stdin; only with an argv command (a script occupies stdin). */
  readonly input?: string;
}

/** ssh options that pin the guest's key and share one connection; usable by other tools too. */
export function sshOptions(endpoint: GuestEndpoint): string[] {
  const options: Record<string, string> = {
    BatchMode: 'yes',
    IdentitiesOnly: 'yes',
    IdentityFile: endpoint.clientKey,
    UserKnownHostsFile: endpoint.knownHosts,
    GlobalKnownHostsFile: '/dev/null',
    HostKeyAlias: guestHostAlias,
    StrictHostKeyChecking: 'yes',
    ControlMaster: 'auto',
    ControlPath: endpoint.controlPath,
    ControlPersist: '600',
    ConnectTimeout: '60',
    ServerAliveInterval: '15',
    LogLevel: 'ERROR',
  };
  return [
    '-F', '/dev/null',
    '-p', String(endpoint.port),
    '-l', endpoint.user,
    ...Object.entries(options).flatMap(([key, value]) => ['-o', `${key}=${value}`]),
  ];
}

export function runInGuest(endpoint: GuestEndpoint, what: GuestCommand, options: GuestRunOptions = {}): Promise<RunResult> {
  const ssh = requireTool('ssh', 'openssh-client');
  const base = [ssh, ...sshOptions(endpoint), endpoint.host];
  const timeoutMs = options.timeoutMs ?? 120_000;
  if ('script' in what) {
    if (options.input !== undefined) throw new Error('runInGuest: a script cannot also take input');
    return run([...base, 'sh -s'], { input: what.script, timeoutMs });
  }
  if (what.length === 0) throw new Error('runInGuest: empty command');
  // ssh hands the remote side one string for the login shell, so every word is quoted here.
  return run([...base, command(...what)], { input: options.input, timeoutMs });
}

/**
 * Argv of an ssh that connects its stdin/stdout to host:port as seen from inside the guest
 * (a direct-tcpip channel over the shared connection): usable as an OpenSSH ProxyCommand.
 */
export function forwardArgv(endpoint: GuestEndpoint, host: string, port: number): string[] {
  if (!/^[A-Za-z0-9.:-]+$/.test(host) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`not a forwarding target: ${JSON.stringify(host)}:${port}`);
  }
  return [requireTool('ssh', 'openssh-client'), ...sshOptions(endpoint), '-W', `${host}:${port}`, endpoint.host];
}

/** The pid of the ControlPersist master, if one is running for this endpoint. */
export async function masterPid(endpoint: GuestEndpoint): Promise<number | undefined> {
  const ssh = requireTool('ssh', 'openssh-client');
  const result = await run([ssh, ...sshOptions(endpoint), '-O', 'check', endpoint.host], { timeoutMs: 10_000 });
  const match = /pid=(\d+)/.exec(result.stderr + result.stdout);
  return match?.[1] ? Number(match[1]) : undefined;
}

/** Ask the master connection to exit; harmless when there is none. */
export async function closeMaster(endpoint: GuestEndpoint): Promise<void> {
  const ssh = requireTool('ssh', 'openssh-client');
  await run([ssh, ...sshOptions(endpoint), '-O', 'exit', endpoint.host], { timeoutMs: 10_000 });
}
