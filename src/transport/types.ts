/** What the engine needs from a connection to one host. */
export interface HostSession {
  /**
   * Run a shell script (sent on stdin to `sh -s`, the same shell for every script of a session,
   * see shell-channel.ts) and collect its output. One round trip.
   * Rejects with ConnectionLostError when the connection dies first, and with ExecAbortedError
   * when `signal` aborts it (the channel is closed; the script may have done part of its work).
   */
  exec(script: string, options?: ExecOptions): Promise<ExecResult>;
  close(): void;
  readonly stats: SessionStats;
}

export interface ExecOptions {
  readonly signal?: AbortSignal;
  /** Called with stdout as it arrives (decoded as UTF-8), for callers that report progress from a long script. */
  readonly onStdout?: (text: string) => void;
  /**
   * Called with stdout as it arrives, like onStdout, but the script still runs in the session's
   * shared shell (no channel of its own): the shell's end line reaches it too, so a caller looks
   * only for lines of its own (an apply's section markers, which carry its nonce).
   */
  readonly watch?: (text: string) => void;
}

export interface ExecResult {
  readonly stdout: string;
  /** stdout as the host sent it, where the transport has it: a read's prefetched files are split by bytes. */
  readonly stdoutBytes?: Buffer;
  readonly stderr: string;
  readonly code: number;
}

/** Counted in the transport so tests can assert the exact round trips per host. */
export interface SessionStats {
  connections: number;
  /** SSH channels opened: one shell takes script after script, so usually one per connection. */
  channels: number;
  /** Scripts run: one round trip each. */
  execs: number;
}

/** Where and how to log in: shared by hosts and jump hosts. */
export interface SshEndpoint {
  /** What to connect to (ssh_config's HostName when it names one). */
  readonly address: string;
  readonly port: number;
  readonly user: string;
  /** Key files tried in order (IdentityFile); every one shares `passphrase`. */
  readonly privateKeys: readonly string[];
  readonly passphrase?: string;
  /**
   * CertificateFile: user certificates offered before every key, each signed by the key file it
   * certifies. None: each key file's KEY-cert.pub is offered after the key, as ssh does.
   */
  readonly certificateFiles?: readonly string[];
  readonly agent?: string;
  /** privateKeys are ssh's default files, none of them named: one that cannot be read is passed over, as ssh passes it over. */
  readonly defaultKeyFiles?: boolean;
  /** IdentitiesOnly: the agent signs only for these key files' keys (their .pub, or an unencrypted key's public half). */
  readonly agentKeys?: readonly string[];
  /** known_hosts files checked; new keys are recorded in the first. */
  readonly knownHostsFiles: readonly string[];
  /** Read-only known_hosts files (GlobalKnownHostsFile, /etc/ssh/ssh_known_hosts). */
  readonly globalKnownHostsFiles: readonly string[];
  /** The name looked up in known_hosts (HostKeyAlias), default `address`. */
  readonly hostKeyAlias?: string;
  /** HashKnownHosts yes: a recorded key's host name is hashed (ssh's default: written as it is). */
  readonly hashKnownHosts?: boolean;
  /** CheckHostIP yes, for a host reached straight by a name: its key is checked and recorded under the address reached too. */
  readonly checkHostIp?: boolean;
  /** StrictHostKeyChecking accept-new (or no): record an unknown key as --accept-new-host-keys does. */
  readonly acceptNewHostKeys?: boolean;
  /** StrictHostKeyChecking as ssh_config set it (default ask): under `no`, a CheckHostIP mismatch is a warning, as in ssh. */
  readonly strictHostKeyChecking?: StrictHostKeyChecking;
  readonly connectTimeoutMs: number;
  /** ServerAliveInterval and ServerAliveCountMax: how long a silent host is waited for (see serverAliveDefaults). */
  readonly serverAlive: ServerAlive;
}

/**
 * An SSH keepalive every `intervalMs` (0: none); after `countMax` more go unanswered the host is
 * given up, `intervalMs x (countMax + 1)` after its last answer.
 */
export interface ServerAlive {
  readonly intervalMs: number;
  readonly countMax: number;
}

export interface JumpTarget extends SshEndpoint {
  /** For messages: `user@host:port`, or the ProxyJump entry. */
  readonly label: string;
}

export interface ConnectionTarget extends SshEndpoint {
  /** Inventory name, for messages. */
  readonly name: string;
  readonly become: boolean;
  /** ProxyJump: the first is reached directly, each next one through the one before. */
  readonly jumps: readonly JumpTarget[];
}

/** ssh_config's StrictHostKeyChecking, its synonyms (true, off, ...) read as ssh reads them. */
export type StrictHostKeyChecking = 'yes' | 'accept-new' | 'no' | 'ask';

export interface ConnectOptions {
  /** Record unknown host keys instead of refusing them (a changed key is always refused). */
  readonly acceptNewHostKeys: boolean;
  /** Where a warning that does not stop the login goes (ssh prints it and goes on); default stderr. */
  readonly warn?: (message: string) => void;
  /** Told each script a host runs and how it ended (-vv). */
  readonly traceExec?: (host: string, trace: ExecTrace) => void;
  /** Told ssh2's account of each connection: algorithms, authentication methods tried (-vvv); the host is its label. */
  readonly traceSsh?: (host: string, message: string) => void;
  /** Aborted when the run is interrupted: a connection still being made is given up at once (ConnectInterruptedError). */
  readonly interrupt?: AbortSignal;
}

/** One script a host ran: its number on the connection, the script, and its result or why it has none. */
export interface ExecTrace {
  readonly exec: number;
  readonly script: string;
  readonly result?: ExecResult;
  readonly error?: Error;
}
