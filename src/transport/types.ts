/** What the engine needs from a connection to one host. */
export interface HostSession {
  /**
   * Run a shell script (sent on stdin to `sh -s`) and collect its output. One round trip.
   * Rejects with ConnectionLostError when the connection dies first, and with ExecAbortedError
   * when `signal` aborts it (the channel is closed; the script may have done part of its work).
   */
  exec(script: string, options?: ExecOptions): Promise<ExecResult>;
  close(): void;
  readonly stats: SessionStats;
}

export interface ExecOptions {
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** Counted in the transport so tests can assert the exact round trips per host. */
export interface SessionStats {
  connections: number;
  execs: number;
}

export interface JumpTarget {
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey?: string;
  readonly knownHostsFile: string;
}

/** Where and how to log in: shared by hosts and the low-level client. */
export interface SshEndpoint {
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey?: string;
  readonly passphrase?: string;
  readonly agent?: string;
  readonly knownHostsFile: string;
  readonly connectTimeoutMs: number;
}

export interface ConnectionTarget extends SshEndpoint {
  /** Inventory name, for messages. */
  readonly name: string;
  readonly become: boolean;
  readonly jump?: JumpTarget;
}

export interface ConnectOptions {
  /** Record unknown host keys instead of refusing them (a changed key is always refused). */
  readonly acceptNewHostKeys: boolean;
}
