import type { CompiledTask } from '../config/compile.js';
import type { LoadedInventory } from '../config/inventory.js';
import type { SectionResult } from '../engine/batch-script.js';
import { HeldRead } from '../engine/read-function.js';
import { hostNotes, hostReadPlan, planHost, type HostReadPlan } from '../engine/host-plan.js';
import { JumpPool, openSession } from '../transport/ssh-session.js';
import type { ResourceNote } from '../resources/types.js';
import type { ConnectionTarget, ConnectOptions, HostSession, SessionStats } from '../transport/types.js';
import { directorProbes, parseDirectorRead } from './director-read.js';
import { DriftMemo, sectionsKey } from './drift-memo.js';
import { explainAbsent } from './absent-why.js';
import { directorStatus } from './model.js';
import { KEEPALIVED_RUNNING_PROBE, vrrpInstances, vrrpStatus } from './vrrp.js';
import type { HostDrift, HostStatus, StatusReport } from './report.js';

// Status over held connections: each host is connected once and kept; every refresh is one exec
// per host, whose script reads every fact the host's plan needs and, on a director, the live
// table, the rates, the addresses and (under lvs.ha) whether keepalived runs. A host whose
// connection fails is tried again next refresh. What a host's read asks is worked out once: the
// tasks do not change during a watch, and the read is sent once, as a shell function on the held
// shell, each refresh then calling it (read-function.ts).

export interface StatusHost {
  readonly name: string;
  readonly tasks: readonly CompiledTask[];
  readonly target: ConnectionTarget;
}

export class StatusWatcher {
  private readonly jumps: JumpPool;
  private readonly sessions = new Map<string, HostSession>();
  private readonly stats = new Map<string, SessionStats>();
  private readonly reads = new Map<string, HostRead>();

  constructor(
    private readonly inventory: LoadedInventory,
    private readonly hosts: readonly StatusHost[],
    /** forks: hosts read at once; default every host (handshakes are limited apart, by the gate). */
    private readonly options: ConnectOptions & { readonly forks?: number },
  ) {
    this.jumps = new JumpPool(options);
  }

  async refresh(): Promise<StatusReport> {
    const at = new Date().toISOString();
    const results = new Array<HostStatus>(this.hosts.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < this.hosts.length) {
        const index = next++;
        results[index] = await this.refreshHost(this.hosts[index] as StatusHost);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.options.forks ?? this.hosts.length, this.hosts.length)) }, worker));
    return explainAbsent({ ...(this.inventory.data.name !== undefined ? { cluster: this.inventory.data.name } : {}), at, hosts: results });
  }

  close(): void {
    for (const session of this.sessions.values()) session.close();
    this.sessions.clear();
    this.jumps.close();
  }

  private counted(host: string, session?: HostSession): SessionStats {
    const previous = this.stats.get(host) ?? { connections: 0, channels: 0, execs: 0 };
    if (!session) return previous;
    return {
      connections: previous.connections + session.stats.connections,
      channels: previous.channels + session.stats.channels,
      execs: previous.execs + session.stats.execs,
    };
  }

  private async refreshHost(host: StatusHost): Promise<HostStatus> {
    const base = { host: host.name, address: host.target.address };
    let session = this.sessions.get(host.name);
    if (!session) {
      try {
        session = await openSession(host.target, this.options, this.jumps);
        this.sessions.set(host.name, session);
        this.reads.get(host.name)?.held.forget();
      } catch (error) {
        return { ...base, reachable: false, error: (error as Error).message, stats: this.counted(host.name) };
      }
    }
    const { read, directed, instances, held, drift: driftMemo } = this.hostRead(host);
    let sections: Map<number, SectionResult>;
    try {
      const open = session;
      const signal = this.options.interrupt;
      sections = await held.sections((script) => open.exec(script, signal ? { signal } : {}));
    } catch (error) {
      // The held connection broke: count what it did and open a new one next refresh.
      this.stats.set(host.name, this.counted(host.name, session));
      this.sessions.delete(host.name);
      session.close();
      return { ...base, reachable: false, error: `reading: ${(error as Error).message}`, stats: this.counted(host.name) };
    }
    // The drift is computed from the planner's sections and whether the read ended (every section there).
    const complete = sections.size >= read.probes.length;
    const drift = driftMemo.get(`${complete}\n${sectionsKey(sections, read.probes.length)}`, () => hostDrift(() => planHost(read, sections, { host: host.name }), complete, hostNotes(read, sections)));
    const first = read.probes.length;
    const directorRead = directed.length > 0 ? parseDirectorRead(sections.get(first), sections.get(first + 1), sections.get(first + 2)) : undefined;
    const vrrp = directorRead && instances.length > 0 ? vrrpStatus(instances, sections.get(first + directorProbes.length), directorRead.addresses) : [];
    const director = directorRead ? { ...directorStatus(directed, directorRead, this.hostsByAddress()), ...(vrrp.length > 0 ? { vrrp } : {}) } : undefined;
    return { ...base, reachable: true, drift, ...(director ? { director } : {}), stats: this.counted(host.name, session) };
  }

  private hostRead(host: StatusHost): HostRead {
    let known = this.reads.get(host.name);
    if (known === undefined) {
      const directed = this.inventory.services.filter((service) => service.directors.includes(host.name));
      const read = hostReadPlan(host.tasks, 'apply');
      const instances = directed.length > 0 ? vrrpInstances(this.inventory, host.name) : [];
      const probes = [...read.probes, ...(directed.length > 0 ? directorProbes : []), ...(instances.length > 0 ? [KEEPALIVED_RUNNING_PROBE] : [])];
      this.reads.set(host.name, (known = { read, directed, instances, held: new HeldRead(probes), drift: new DriftMemo<HostDrift>() }));
    }
    return known;
  }

  private hostsByAddress(): Map<string, string> {
    return new Map(Object.entries(this.inventory.data.hosts).map(([name, entry]) => [entry.address, name]));
  }
}

/** What one host's refresh reads, and how its answers are planned. */
interface HostRead {
  readonly read: HostReadPlan;
  readonly directed: LoadedInventory['services'];
  readonly instances: ReturnType<typeof vrrpInstances>;
  readonly held: HeldRead;
  /** The drift of the sections last read, kept while they read the same. */
  readonly drift: DriftMemo<HostDrift>;
}

function hostDrift(plan: () => ReturnType<typeof planHost>, complete: boolean, notes: readonly ResourceNote[]): HostDrift {
  if (!complete) return { state: 'unknown', changes: [], error: 'the read script ended early' };
  try {
    const changes = plan().map(({ summary, task, role, joining }) => ({ summary, task, ...(role !== undefined ? { role } : {}), ...(joining !== undefined ? { joining } : {}) }));
    return { state: changes.length > 0 ? 'drift' : 'in-sync', changes, ...(notes.length > 0 ? { notes } : {}) };
  } catch (error) {
    return { state: 'unknown', changes: [], error: (error as Error).message };
  }
}
