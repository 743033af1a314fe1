import { attachGuest, ensureKernel, LabPrerequisiteError, sshOptions, type GuestHandle } from '../../src/lab/qemu/index.js';
import { hostCommand, loadClusterState, missingPrerequisites, type ClusterHost, type ClusterState } from '../../src/lab/cluster/index.js';
import { HostShellPool } from './host-shell.js';

// Reads a lab that `lvsprov lab up` built, by a path of its own: the guest's management sshd and
// nsenter into each host's namespaces. Nothing here goes through lvsprov's transport or its verify
// command, so what the e2e tests assert is what the kernel and curl say.

export interface Answer {
  /** The host named by the page that came back, or '' when curl failed. */
  readonly server: string;
  /** address:port curl talked to. */
  readonly peer: string;
}

export interface IpvsCounters {
  readonly conns: number;
  readonly inPkts: number;
  readonly outPkts: number;
  readonly inBytes: number;
  readonly outBytes: number;
}

export interface IpvsStats {
  /** By service, e.g. `TCP 198.51.100.50:80`. */
  readonly services: Map<string, IpvsCounters & { readonly servers: Map<string, IpvsCounters> }>;
}

/**
 * Before a qemu e2e file builds its lab: the prerequisites and Debian's kernel (downloaded once).
 * '' when the lab can run, else why the file's tests are skipped; in CI (CI=true) a missing piece
 * throws instead, since there it is a failure.
 */
export async function labReadiness(log: (line: string) => void): Promise<string> {
  const inCi = process.env.CI === 'true';
  const missing = missingPrerequisites();
  if (missing.length > 0) {
    const reason = `lab prerequisites missing: ${missing.map((item) => item.what).join(', ')}`;
    if (inCi) throw new Error(`${reason} (in CI)`);
    return reason;
  }
  try {
    await ensureKernel({ log });
    return '';
  } catch (error) {
    if (error instanceof LabPrerequisiteError && !inCi) return `no Debian kernel: ${error.message}`;
    throw error;
  }
}

export class ClusterLab {
  private readonly shells: HostShellPool;

  private constructor(
    readonly state: ClusterState,
    readonly guest: GuestHandle,
  ) {
    const { endpoint } = guest;
    this.shells = new HostShellPool((host) => ['ssh', ...sshOptions(endpoint), endpoint.host, hostCommand(this.host(host), ['sh'])]);
  }

  static async open(dir: string): Promise<ClusterLab> {
    const state = await loadClusterState(dir);
    if (!state?.lab) throw new Error(`no lab is up in ${dir}`);
    return new ClusterLab(state, attachGuest(state.guest));
  }

  host(name: string): ClusterHost {
    const found = this.state.lab?.hosts.find((host) => host.name === name);
    if (!found) throw new Error(`the lab has no host ${name}`);
    return found;
  }

  get clientName(): string {
    return this.state.lab?.client.name ?? 'client';
  }

  get clientAddresses(): readonly string[] {
    return this.state.lab?.client.addresses ?? [];
  }

  /** Run a shell script inside a host (in a shell kept open there); throws with its output when it fails. */
  async sh(host: string, script: string, timeoutMs = 180_000): Promise<string> {
    const result = await this.shells.run(host, script, timeoutMs);
    if (result.code !== 0) throw new Error(`${host}: ${script.slice(0, 200)}: exit ${result.code}: ${result.stderr}${result.stdout}`);
    return result.stdout;
  }

  /** The same script in each of `hosts` at once; each host's output (stderr within it), whatever its script's exit status. */
  async shEach(hosts: readonly string[], script: string, timeoutMs = 180_000): Promise<Map<string, string>> {
    const outputs = await Promise.all(hosts.map(async (host) => [host, (await this.shells.run(host, `exec 2>&1\n${script}`, timeoutMs)).stdout] as const));
    return new Map(outputs);
  }

  /** Ends the kept shells; a lab torn down ends them too. */
  close(): void {
    this.shells.close();
  }

  /**
   * `count` requests from the client in one curl process (a process start costs a second under
   * emulation), each on a new connection. `source` binds one of the client's addresses; without
   * it the kernel picks the source port at connect time, which never reuses a recent 4-tuple
   * (bind-time picks can, and the director then counts the reused tuple as its old connection).
   */
  async curl(url: string, count: number, source?: string): Promise<Answer[]> {
    const bind = source === undefined ? '' : `--interface ${source} `;
    const urls = Array<string>(count).fill(url).join(' ');
    const script = `curl -s -m 10 ${bind}-H 'Connection: close' -w '${marker}%{remote_ip}:%{remote_port} %{http_code}\\n' ${urls}; true`;
    return parseAnswers(await this.sh(this.clientName, script, 60_000 + count * 15_000));
  }

  async ipvsStats(director: string): Promise<IpvsStats> {
    return parseIpvsStats(await this.sh(director, 'ipvsadm -L -n --stats --exact'));
  }

  /**
   * The director's counters once they show at least `conns` connections for `service`. The kernel
   * folds its per-CPU counters into what ipvsadm reads every 2 s, so they trail the traffic.
   */
  async ipvsStatsAfter(director: string, service: string, conns: number): Promise<IpvsStats> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const stats = await this.ipvsStats(director);
      if ((stats.services.get(service)?.conns ?? 0) >= conns || Date.now() > deadline) return stats;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function counters(words: string[]): IpvsCounters {
  const [conns, inPkts, outPkts, inBytes, outBytes] = words.map(Number);
  return { conns: conns ?? NaN, inPkts: inPkts ?? NaN, outPkts: outPkts ?? NaN, inBytes: inBytes ?? NaN, outBytes: outBytes ?? NaN };
}

/** `ipvsadm -L -n --stats --exact`: a service line, then `  -> RIP:PORT` lines, five counters each. */
export function parseIpvsStats(text: string): IpvsStats {
  const services: IpvsStats['services'] = new Map();
  let current: (IpvsCounters & { servers: Map<string, IpvsCounters> }) | undefined;
  for (const line of text.split('\n')) {
    const service = /^(TCP|UDP|FWM)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    const server = /^\s+->\s+(\d+\.\d+\.\d+\.\d+:\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (service) {
      current = { ...counters(service.slice(3)), servers: new Map() };
      services.set(`${service[1]} ${service[2]}`, current);
    } else if (server && current) {
      current.servers.set(server[1] as string, counters(server.slice(2)));
    }
  }
  return { services };
}

// Not starting with @: curl reads -w @NAME from a file.
const marker = 'lvsprov-answer ';

/** curl's output: each body, then the marker line of that transfer. A failed transfer has no body. */
export function parseAnswers(text: string): Answer[] {
  const parts = text.split(marker);
  const answers: Answer[] = [];
  let body = parts[0] ?? '';
  for (const part of parts.slice(1)) {
    const newline = part.indexOf('\n');
    const [peer = '', code = ''] = part.slice(0, newline < 0 ? undefined : newline).split(' ');
    answers.push({ server: code === '200' ? (/<h1>([^<]*)<\/h1>/.exec(body)?.[1] ?? '') : '', peer });
    body = newline < 0 ? '' : part.slice(newline + 1);
  }
  return answers;
}

/** How many answers each server gave. */
export function tally(answers: readonly Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { server } of answers) counts[server] = (counts[server] ?? 0) + 1;
  return counts;
}
