import { connectionTarget } from '../config/connection.js';
import type { LoadedInventory } from '../config/inventory.js';
import { JumpPool, openSession } from '../transport/ssh-session.js';
import type { ConnectOptions, ExecOptions, ExecResult, HostSession } from '../transport/types.js';
import type { HostContact } from './report.js';

// One SSH connection per host for the whole verify run, whatever roles the host plays in it
// (client, director, ARP checker). A host that cannot be reached is recorded once, not retried.

export class SessionPool {
  private readonly jumps: JumpPool;
  private readonly sessions = new Map<string, Promise<HostSession | undefined>>();
  private readonly roles = new Map<string, string[]>();
  private readonly errors = new Map<string, string>();
  private readonly opened = new Map<string, HostSession>();

  constructor(
    private readonly inventory: LoadedInventory,
    private readonly options: ConnectOptions & { readonly sshConfigFile?: string },
  ) {
    this.jumps = new JumpPool(options);
  }

  /** The host's session, or undefined when it is unreachable (see contacts() for why). */
  get(host: string, role: string): Promise<HostSession | undefined> {
    const roles = this.roles.get(host) ?? [];
    if (!roles.includes(role)) roles.push(role);
    this.roles.set(host, roles);
    let session = this.sessions.get(host);
    if (!session) {
      session = openSession(connectionTarget(this.inventory, host, { sshConfigFile: this.options.sshConfigFile }), this.options, this.jumps).then(
        (opened) => {
          this.opened.set(host, opened);
          return opened;
        },
        (error: unknown) => {
          this.errors.set(host, (error as Error).message);
          return undefined;
        },
      );
      this.sessions.set(host, session);
    }
    return session;
  }

  /**
   * Run one script on the host: undefined when the host is unreachable or the channel failed
   * (unreachable() tells which; contacts() says why).
   */
  async run(host: string, role: string, script: string, options: ExecOptions = {}): Promise<ExecResult | undefined> {
    const session = await this.get(host, role);
    if (!session) return undefined;
    try {
      return await session.exec(script, options);
    } catch (error) {
      this.fail(host, `running the ${role} script: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** Record that a host was reachable but a script on it failed. */
  fail(host: string, message: string): void {
    this.errors.set(host, message);
  }

  unreachable(host: string): boolean {
    return this.errors.has(host) && !this.opened.has(host);
  }

  contacts(): HostContact[] {
    return [...this.roles.entries()].map(([host, roles]) => {
      const session = this.opened.get(host);
      const error = this.errors.get(host);
      return {
        host,
        roles,
        reachable: session !== undefined,
        ...(error !== undefined ? { error } : {}),
        stats: { connections: session?.stats.connections ?? 0, execs: session?.stats.execs ?? 0 },
      };
    });
  }

  close(): void {
    for (const session of this.opened.values()) session.close();
    this.jumps.close();
  }
}
