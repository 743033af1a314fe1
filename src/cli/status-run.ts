import { setMaxListeners } from 'node:events';
import { resolveConnections, sshConfigNoteLine } from '../config/connections.js';
import { UsageError } from '../errors.js';
import { liveLinks, withLiveVrrp } from '../graph/live.js';
import { topology } from '../graph/topology.js';
import { renderStatus } from '../report/status-text.js';
import type { StatusReport } from '../status/report.js';
import { StatusWatcher, type StatusHost } from '../status/watcher.js';
import { ExitCode } from './exit-codes.js';
import { emitGraph } from './graph-output.js';
import { graphFormatFor } from './graph-options.js';
import type { CliIo } from './io.js';
import { writeJson } from './json-output.js';
import { prepareRun } from './load-run.js';
import { limitTerms } from './selection-options.js';
import type { StatusFlags } from './status-command.js';

const CLEAR_SCREEN = '\x1b[H\x1b[2J';

/** One read of every host, or a refresh every --watch seconds over held connections. */
export async function runStatus(io: CliIo, setExit: (code: number) => void, flags: StatusFlags): Promise<void> {
  // Checked before the inventory is read: a flag that would be ignored is a mistake to say at once.
  if (flags.count !== undefined && flags.watch === undefined) throw new UsageError('status --count N counts the refreshes of --watch: give --watch SECONDS too');
  const prepared = prepareRun({ inventory: flags.inventory, playbook: flags.playbook, limit: limitTerms(flags), sshConfig: flags.sshConfig, connecting: true });
  for (const warning of prepared.run.warnings) io.err(`warning: ${warning}`);
  const names = [...prepared.run.hosts.keys()];
  if (flags.limit === undefined) {
    for (const director of prepared.inventory.services.flatMap((service) => service.directors)) if (!names.includes(director)) names.push(director);
  }
  // Directors no task names are read too: their connections and notes are resolved as the run's.
  const directors = resolveConnections(prepared.inventory, names.filter((name) => !prepared.targets.has(name)), { sshConfigFile: flags.sshConfig, requireKeyFiles: true });
  for (const note of new Set([...prepared.sshNotes, ...directors.notes])) io.err(sshConfigNoteLine(note));
  const targets = new Map([...prepared.targets, ...directors.targets]);
  const hosts: StatusHost[] = names.flatMap((name) => {
    const target = targets.get(name);
    return target ? [{ name, tasks: prepared.run.hosts.get(name) ?? [], target }] : [];
  });
  const graphTopology = topology(prepared.inventory);
  if (flags.graph && flags.watch !== undefined && flags.output === undefined) throw new UsageError('status --graph --watch needs -o FILE: the picture is rewritten there on every refresh');
  // Refused before any host is read: a picture format lvsprov does not draw.
  const graphFormat = flags.graph ? graphFormatFor(flags.format, flags.output) : undefined;
  // Ctrl-C, a `kill`, a closed terminal: each stops the watch at once, a refresh under way cut off
  // (connections still being made given up, reads ended) and not shown, connections closed.
  const stopping = new AbortController();
  // Every connection being made and every read listens on it (one each, removed when it ends): past
  // ten, node would warn of a listener leak on every status of eleven hosts or more.
  setMaxListeners(0, stopping.signal);
  const watcher = new StatusWatcher(prepared.inventory, hosts, { ...(flags.forks !== undefined ? { forks: flags.forks } : {}), acceptNewHostKeys: flags.acceptNewHostKeys, interrupt: stopping.signal });
  const refreshes = flags.watch === undefined ? 1 : flags.count ?? Infinity;
  let stopped = false;
  let signalled = false;
  let wake: (() => void) | undefined;
  const stop = (): void => {
    stopped = true;
    stopping.abort();
    wake?.();
  };
  const onSignal = (): void => {
    signalled = true;
    stop();
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of signals) process.once(signal, onSignal);
  io.outputClosed?.addEventListener('abort', stop);
  let report: StatusReport | undefined;
  try {
    for (let done = 0; done < refreshes && !stopped; done++) {
      if (done > 0) await new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, (flags.watch ?? 0) * 1000)));
      if (stopped) break;
      const fresh = await watcher.refresh();
      if (stopped) break;
      report = fresh;
      if (graphFormat !== undefined) await emitGraph(io, withLiveVrrp(graphTopology, report), graphFormat, flags.output, liveLinks(report));
      else if (flags.json && flags.watch === undefined) await writeJson(io, report, 'hosts');
      else if (flags.json) io.out(JSON.stringify(report));
      // Redrawn only where stdout is a terminal: `status --watch 5 > file` gets each refresh in turn.
      else io.out(`${flags.watch !== undefined && io.outIsTTY === true ? CLEAR_SCREEN : done > 0 ? '\n' : ''}${renderStatus(report)}`);
    }
  } finally {
    for (const signal of signals) process.removeListener(signal, onSignal);
    io.outputClosed?.removeEventListener('abort', stop);
    watcher.close();
  }
  // A watch stopped keeps its last refresh's code; one stopped before any refresh ended was interrupted.
  setExit(report ? exitCodeForStatus(report) : signalled ? ExitCode.interrupted : ExitCode.ok);
}

/** A host whose state could not be read outranks one that could not be reached, as for apply. */
export function exitCodeForStatus(report: StatusReport): number {
  const unreadable = report.hosts.some((host) => host.drift?.state === 'unknown' || host.director?.table === 'unreadable');
  if (unreadable) return ExitCode.hostsFailed;
  if (report.hosts.some((host) => !host.reachable)) return ExitCode.hostsUnreachable;
  return ExitCode.ok;
}
