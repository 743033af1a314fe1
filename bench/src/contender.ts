import type { TimedOptions } from './timed-run.js';

// A contender is one command the bench times: it runs once, checks that it did what it claims
// (a run that failed is an error, never a fast sample) and reports its own view of the run.

export interface RunOutcome {
  readonly seconds: number;
  readonly maxRssKiB?: number;
  /** CPU seconds on the control node (the tool's processes and the children it waited for). */
  readonly cpuSeconds?: number;
  /** Round trips as the tool itself counted them (lvsprov's --json stats), per host. */
  readonly clientCounts?: ReadonlyArray<{ readonly connections: number; readonly execs: number }>;
  /** Milliseconds from the tool's process start to its first connection attempt, as it reports it. */
  readonly firstConnectionMs?: number;
  /** Handshakes allowed in flight at once and the most that were; absent: every host at once. */
  readonly handshakes?: { readonly limit: number; readonly widest?: number; readonly peak: number };
  /** status --watch: the control node's CPU per refresh and its share of one core. */
  readonly watch?: { readonly interval: number; readonly cpuMsPerRefresh: number; readonly coreShare: number };
}

export interface Contender {
  readonly id: 'floor' | 'floor-curve25519' | 'lvsprov-first' | 'lvsprov-rerun' | 'lvsprov-watch' | 'ansible-first' | 'ansible-rerun';
  readonly label: string;
  /** Bring the hosts to the state this contender starts from (fresh hosts for a first run). */
  readonly prepare?: () => Promise<void>;
  /** `warmUp`: the untimed first round; a contender may do less then (Ansible warms up on one host). */
  readonly run: (timing: TimedOptions, warmUp: boolean) => Promise<RunOutcome>;
}

/** A failed run's message with the end of its output, which usually says why. */
export function runFailure(what: string, code: number | null, stdout: string, stderr: string): Error {
  const tail = (text: string): string => text.trim().split('\n').slice(-15).join('\n');
  return new Error(`${what} failed (exit ${code}):\n${tail(stderr)}\n${tail(stdout)}`);
}
