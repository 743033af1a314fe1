// What sshd itself says happened, read from its own log at LogLevel VERBOSE: a count of TCP
// connections, logins and sessions that shares nothing with the client's counters.
//
//   Connection from 198.18.0.1 port 49476 on 198.18.0.10 port 22 rdomain ""
//   Accepted publickey for root from 198.18.0.1 port 49476 ssh2: ED25519 SHA256:...
//   Starting session: command for root from 198.18.0.1 port 49476 id 0
//
// "Starting session" is one per channel that runs something: an exec (`command`), a shell, or a
// subsystem such as sftp (`subsystem 'sftp'`), which is how Ansible copies files.

export interface SessionCounts {
  /** TCP connections sshd accepted. */
  readonly connections: number;
  /** Successful logins. */
  readonly logins: number;
  /** Sessions started: execs, shells and subsystems. */
  readonly sessions: number;
  /** Of those, execs (`command`). */
  readonly execs: number;
}

export const noSessions: SessionCounts = { connections: 0, logins: 0, sessions: 0, execs: 0 };

export function countSessions(log: string): SessionCounts {
  let connections = 0;
  let logins = 0;
  let sessions = 0;
  let execs = 0;
  for (const line of log.split('\n')) {
    if (/^Connection from \S+ port \d+ on /.test(line)) connections += 1;
    else if (/^Accepted \S+ for \S+ from \S+ port \d+ /.test(line)) logins += 1;
    else if (line.startsWith('Starting session: ')) {
      sessions += 1;
      if (line.startsWith('Starting session: command for ')) execs += 1;
    }
  }
  return { connections, logins, sessions, execs };
}

/**
 * The sessions sshd closed while their connection was still up ("Close session" before the
 * client's "Received disconnect" from that port): sshd reaped the session's command, so what it
 * ran counts in the host's CPU (proc-cpu.ts). A connection dropped under a running command logs no
 * "Close session"; the command is left to the host's init, its CPU to no sshd.
 */
export function sessionsClosedBeforeDisconnect(log: string): number {
  const disconnected = new Set<string>();
  let closed = 0;
  for (const line of log.split('\n')) {
    const port = / port (\d+)/.exec(line)?.[1];
    if (port === undefined) continue;
    if (line.startsWith('Received disconnect from ')) disconnected.add(port);
    else if (line.startsWith('Close session: ') && !disconnected.has(port)) closed += 1;
  }
  return closed;
}
