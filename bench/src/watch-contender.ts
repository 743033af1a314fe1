import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Lab } from '../../src/lab/netns/index.js';
import type { Contender, RunOutcome } from './contender.js';
import { cli, cliNodeFlags, lvsprovPlaybook, type LvsprovSettings } from './lvsprov-contender.js';
import { clockTicks, ownCpuTicks } from './proc-cpu.js';
import { repoRoot } from './repo-root.js';

// Beyond the floor: `lvsprov status --watch` keeps one connection per host and re-reads every
// host each interval, one exec per host and no handshake. Timed here: a re-check of every host
// over the held connections (from the refresh's start, which the report carries, to its JSON
// line), and the control node's CPU over one whole interval of a watch, read from the process's
// own /proc/PID/stat between two refreshes. Refresh 1 connects; refreshes 2 and 3 are measured.

interface StatusLine {
  readonly at: string;
  readonly hosts: ReadonlyArray<{ readonly host: string; readonly reachable: boolean; readonly drift?: { readonly state: string } }>;
}

interface Refresh {
  readonly startedMs: number;
  readonly arrivedMs: number;
  readonly cpuMs: number;
}

export interface WatchFigures {
  /** Seconds between refreshes. */
  readonly interval: number;
  /** The control node's CPU for one refresh cycle, and as a share of one core over the interval. */
  readonly cpuMsPerRefresh: number;
  readonly coreShare: number;
}

const refreshes = 3;

async function cpuMs(pid: number): Promise<number> {
  const own = ownCpuTicks(await readFile(`/proc/${pid}/stat`, 'utf8'));
  if (own === undefined) throw new Error(`no CPU times in /proc/${pid}/stat`);
  return (own * 1000) / clockTicks();
}

export function watchContender(lab: Lab, settings: LvsprovSettings, interval: number): Contender {
  return {
    id: 'lvsprov-watch',
    label: 'lvsprov status re-check, held',
    run: async (timing): Promise<RunOutcome> => {
      // The bench's director is not a lab host: only the real servers are watched.
      const argv = [process.execPath, ...cliNodeFlags, cli, 'status', '-i', settings.inventory, '-p', lvsprovPlaybook, '--limit', 'realservers', '--watch', String(interval), '--count', String(refreshes), '--json'];
      const [file, ...args] = timing.wrap(argv);
      // `ip netns exec` execs the command in place: the child's pid is lvsprov's.
      const child = spawn(file as string, args, { env: timing.env, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      const seen: Refresh[] = [];
      const problems: string[] = [];
      let stderr = '';
      let buffered = '';
      const reading: Array<Promise<void>> = [];
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          const arrivedMs = Date.now();
          reading.push(
            cpuMs(child.pid as number).then((cpu) => {
              const report = JSON.parse(line) as StatusLine;
              const wrong = report.hosts.filter((host) => !host.reachable || host.drift?.state !== 'in-sync');
              if (report.hosts.length !== lab.hosts.length || wrong.length > 0) {
                problems.push(`refresh ${seen.length + 1}: ${report.hosts.length} hosts, ${wrong.length} not reachable or not in sync (${wrong.slice(0, 3).map((host) => host.host).join(', ')})`);
              }
              seen.push({ startedMs: Date.parse(report.at), arrivedMs, cpuMs: cpu });
            }),
          );
        }
      });
      const code = await new Promise<number | null>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', resolve);
      });
      await Promise.all(reading);
      if (code !== 0 || seen.length !== refreshes || problems.length > 0) {
        throw new Error(`lvsprov status --watch: exit ${code}, ${seen.length} of ${refreshes} refreshes; ${problems.join('; ')}\n${stderr.slice(-2000)}`);
      }
      const held = seen.slice(1);
      const recheck = held.reduce((sum, refresh) => sum + (refresh.arrivedMs - refresh.startedMs) / 1000, 0) / held.length;
      const [second, third] = held as [Refresh, Refresh];
      const cpuMsPerRefresh = third.cpuMs - second.cpuMs;
      return { seconds: recheck, watch: { interval, cpuMsPerRefresh, coreShare: cpuMsPerRefresh / (third.arrivedMs - second.arrivedMs) } };
    },
  };
}
