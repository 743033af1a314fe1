import { isatty } from 'node:tty';
import type { EngineEvent, EventSink, HostResult, LockWait } from '../engine/events.js';
import { HostTally } from './progress-tally.js';
import { throttledRenderer } from './throttled-renderer.js';

// Two ways to show progress: listr2 on an interactive terminal (a line per host, or one line that
// counts them when they outnumber the terminal's rows), one plain line per host event otherwise
// (CI logs, pipes). All only listen to engine events, and all write to stderr, so that stdout
// carries the report or the JSON alone. listr2 loads only when a terminal will show it.

export interface Progress {
  readonly sink: EventSink;
  /** Resolves once the display has drawn its final state. */
  finish(): Promise<void>;
}

/** The word a host's end goes by: its status, `would change` for a change in check mode. */
const statusWord = (result: HostResult, check: boolean): string => (check && result.status === 'changed' ? 'would change' : result.status);

function outcome(result: HostResult, check: boolean): string {
  const count = result.status === 'failed' || result.status === 'interrupted' ? result.applied : result.changes.length;
  return `${statusWord(result, check)}${count > 0 ? ` (${count} change${count === 1 ? '' : 's'})` : ''}`;
}

/** A host's end as a line of its own: its outcome and, when it failed, why. */
const doneLine = (result: HostResult, check: boolean): string => `${result.host}: ${outcome(result, check)}${result.error ? `: ${result.error.message}` : ''}`;

export function lockWaitLine(host: string, wait: LockWait): string {
  return `${host}: waited ${wait.waitedSeconds.toFixed(1)} s for the host lock held by ${wait.heldBy ?? 'another run'}; read afresh`;
}

export function plainProgress(write: (line: string) => void, check: boolean): Progress {
  return {
    sink: (event: EngineEvent) => {
      if (event.type === 'host-lock-waited') write(lockWaitLine(event.host, event.wait));
      else if (event.type === 'wave-start') write(`wave ${event.phase}: ${event.hosts.join(', ')}`);
      else if (event.type === 'host-done') write(doneLine(event.result, check));
    },
    finish: () => Promise.resolve(),
  };
}

type Listr2 = typeof import('listr2');

/**
 * listr2, its colours decided as the recap's are (colourWanted) for stderr, where the list is
 * drawn. Its colorette decides once, as it loads, from process.env and whether stdout is a
 * terminal: FORCE_COLOR=0 would colour the list and `NO_COLOR=` leave it plain. So the two
 * variables it reads say lvsprov's decision while it loads, and are put back at once.
 */
export async function loadListr2(): Promise<Listr2> {
  const saved = { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR };
  const { colourWanted } = await import('./colour.js');
  const colour = colourWanted(process.env, isatty(2));
  delete process.env.NO_COLOR;
  delete process.env.FORCE_COLOR;
  process.env[colour ? 'FORCE_COLOR' : 'NO_COLOR'] = '1';
  try {
    return await import('listr2');
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** How often a live list is drawn at most: five times a second keeps the spinner moving. */
const DRAW_INTERVAL_MS = 200;

/** A live list of concurrent tasks drawn on stderr; `listr2` is the module, loaded by the caller. */
export function stderrListOptions({ ListrLogger, ProcessOutput, DefaultRenderer }: Listr2) {
  return {
    renderer: throttledRenderer(DefaultRenderer, DRAW_INTERVAL_MS),
    concurrent: true,
    exitOnError: false,
    // The CLI handles SIGINT itself (a recap, exit 130); listr2's own handler would exit at once.
    registerSignalListeners: false,
    // The caller checked that stderr is a terminal; stdout may be a pipe.
    forceTTY: true,
    rendererOptions: {
      collapseErrors: false,
      logger: new ListrLogger({ useIcons: true, toStderr: [], processOutput: new ProcessOutput(process.stderr, process.stderr) }),
    },
  } as const;
}

/** Rows the live view leaves for the lines above it (a warning, the command line) and the cursor. */
const SPARE_ROWS = 4;

/**
 * The live view on a terminal of `rows` rows: a line per host when they fit, else one line that
 * counts them (a thousand hosts on a screen of fifty rows).
 */
export async function listrProgress(hosts: readonly string[], check: boolean, rows: number | undefined = process.stderr.rows): Promise<Progress> {
  const listr2 = await loadListr2();
  return hosts.length + SPARE_ROWS <= (rows || 24) ? hostList(listr2, hosts, check) : hostTally(listr2, hosts, check);
}

function hostList(listr2: Listr2, hosts: readonly string[], check: boolean): Progress {
  const { Listr } = listr2;
  const waiting = new Map<string, { title: (text: string) => void; done: (result: HostResult) => void }>();
  const early: EngineEvent[] = [];
  // A host the run opens once it is under way (a director dropped from a VRRP group, whose
  // keepalived it stops) has no line in the list, which listr2 cannot grow while it runs: its
  // outcome is written below the list when the list is done.
  const listed = new Set(hosts);
  const after: string[] = [];
  const list = new Listr(
    hosts.map((host) => ({
      title: `${host}: waiting`,
      task: (_context: unknown, task: { title: string }) =>
        new Promise<void>((resolve, reject) => {
          waiting.set(host, {
            title: (text) => {
              task.title = `${host}: ${text}`;
            },
            done: (result) => {
              task.title = `${host}: ${outcome(result, check)}`;
              if (result.status === 'failed' || result.status === 'unreachable') reject(new Error(`${host}: ${result.error?.message ?? result.status}`));
              else resolve();
            },
          });
          for (const event of early.splice(0)) deliver(event);
        }),
    })),
    stderrListOptions(listr2),
  );
  const deliver = (event: EngineEvent): void => {
    if (event.type === 'wave-start') return;
    const host = event.type === 'host-done' ? event.result.host : event.host;
    if (!listed.has(host)) {
      if (event.type === 'host-done') after.push(`${doneLine(event.result, check)} (opened during the run)`);
      return;
    }
    const target = waiting.get(host);
    if (!target) {
      early.push(event);
      return;
    }
    if (event.type === 'host-phase') target.title(event.wave ? `${event.phase} (${event.wave})` : event.phase);
    else if (event.type === 'host-planned') target.title(`planned ${event.changes} change(s)`);
    else if (event.type === 'host-lock-waited') target.title(lockWaitLine(host, event.wait).slice(host.length + 2));
    else if (event.type === 'host-done') target.done(event.result);
  };
  const running = list.run().then(
    () => undefined,
    () => undefined,
  );
  return {
    sink: deliver,
    finish: async () => {
      await running;
      for (const line of after) process.stderr.write(`${line}\n`);
    },
  };
}

/**
 * One live line counting the hosts by phase and outcome. What a line per host would have shown
 * of a host that did not end well (why it failed or was interrupted) is shown under the line once
 * the run is over, which marks the line failed; the recap on stdout lists every host.
 */
function hostTally(listr2: Listr2, hosts: readonly string[], check: boolean): Progress {
  const tally = new HostTally(hosts);
  const unwell: string[] = [];
  const waits: string[] = [];
  let show = (_line: string): void => undefined;
  // The run may be over before listr2 starts the task (it loads its drawing modules first).
  let runOver = (): void => undefined;
  const over = new Promise<void>((resolve) => (runOver = resolve));
  const list = new listr2.Listr(
    [
      {
        title: tally.line(),
        task: async (_context: unknown, task: { title: string }) => {
          show = (line) => {
            task.title = line;
          };
          show(tally.line());
          await over;
          if (unwell.length > 0) throw new Error(unwell.join('\n'));
        },
      },
    ],
    stderrListOptions(listr2),
  );
  const running = list.run().then(
    () => undefined,
    () => undefined,
  );
  return {
    sink: (event: EngineEvent) => {
      if (event.type === 'host-phase') tally.phase(event.host, event.phase);
      else if (event.type === 'wave-start') tally.waveStarted(event.phase);
      else if (event.type === 'host-lock-waited') waits.push(lockWaitLine(event.host, event.wait));
      else if (event.type === 'host-done') {
        tally.finished(event.result.host, statusWord(event.result, check));
        if (event.result.error || event.result.status === 'interrupted') unwell.push(doneLine(event.result, check));
      } else return;
      show(tally.line());
    },
    finish: async () => {
      runOver();
      await running;
      for (const line of waits) process.stderr.write(`${line}\n`);
    },
  };
}
