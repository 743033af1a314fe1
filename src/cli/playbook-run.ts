import type { RunMode } from '../engine/planners.js';
import { runAll, type RunOptions } from '../engine/run.js';
import { renderExecTrace, renderSshTrace } from '../report/exec-trace-text.js';
import type { ExecTrace } from '../transport/types.js';
import { renderRecap, totals } from '../report/recap.js';
import { lockOwner } from '../lock/lock-owner.js';
import { exitCodeFor } from './exit-codes.js';
import { writeJson } from './json-output.js';
import { watchInterrupts } from './interrupts.js';
import { sshConfigNoteLine } from '../config/connections.js';
import { prepareRun } from './load-run.js';
import type { BeforeRun, PlaybookFlags } from './playbook-command.js';
import { listrProgress, plainProgress } from './progress.js';
import type { CliIo } from './io.js';
import { limitTerms, printListing, tagSelection } from './selection-options.js';

export async function runPlaybook(io: CliIo, setExit: (code: number) => void, flags: PlaybookFlags, mode: RunMode, beforeRun?: BeforeRun): Promise<void> {
  const prepared = prepareRun({
    inventory: flags.inventory,
    playbook: flags.playbook,
    limit: limitTerms(flags),
    tags: tagSelection(flags),
    rolesPath: flags.rolesPath,
    sshConfig: flags.sshConfig,
    connecting: !flags.listHosts && !flags.listTasks,
  });
  for (const warning of prepared.run.warnings) io.err(`warning: ${warning}`);
  for (const note of prepared.sshNotes) io.err(sshConfigNoteLine(note));
  if (printListing(io, prepared, flags)) return;
  if (beforeRun && !(await beforeRun(prepared, flags))) return;
  const hosts = [...prepared.run.hosts.keys()];
  // Progress goes to stderr only, so stdout carries the report (or the JSON) alone. From -vv on the
  // traces go there too, line by line, which a redrawn listr display would overwrite.
  const progress = io.isTTY && flags.verbose < 2 ? await listrProgress(hosts, flags.check) : plainProgress(io.err, flags.check);
  const interrupts = watchInterrupts(io);
  const summary = await runAll(
    prepared.run,
    prepared.targetOf,
    {
      check: flags.check,
      ...(flags.forks !== undefined ? { forks: flags.forks } : {}),
      acceptNewHostKeys: flags.acceptNewHostKeys,
      mode,
      // --tags and --skip-tags leave tasks out: what they made is kept, never pruned.
      keepUndeclared: (() => { const selection = tagSelection(flags); return selection.only !== undefined || selection.skip !== undefined; })(),
      lock: { owner: lockOwner(), timeoutSeconds: flags.lockTimeout },
      interrupt: interrupts.interrupt,
      abort: interrupts.abort,
      drainTimeout: flags.drainTimeout,
      stoppedPeers: flags.stoppedPeer,
      ...verbosityTraces(io, flags.verbose),
    },
    progress.sink,
  ).finally(() => interrupts.dispose());
  await progress.finish();
  const code = exitCodeFor(summary.results, interrupts.interrupt.aborted, { changesPending: flags.exitCode });
  if (flags.json) {
    const waves = summary.plan.waves.map((wave) => ({ phase: wave.phase, hosts: wave.hosts.map((entry) => entry.host) }));
    const document = { mode, check: flags.check, totals: totals(summary.results), exitCode: code, waves, drains: summary.plan.drains, takeovers: summary.plan.takeovers, hosts: summary.results, jumpConnections: summary.jumpConnections, handshakes: summary.handshakes, ...(summary.firstConnectionMs !== undefined ? { firstConnectionMs: Math.round(summary.firstConnectionMs) } : {}) };
    await writeJson(io, document, 'hosts');
  } else {
    // The text report's code (diffs, colours) loads only for it: --json and startup skip it.
    const [{ renderPlan }, { terminalRecapStyle }] = await Promise.all([import('../report/plan-text.js'), import('./colour.js')]);
    const plan = renderPlan(summary.results, { diff: flags.diff, check: flags.check, verbose: flags.verbose >= 1, waves: summary.plan, drainTimeout: summary.drainTimeout });
    if (plan) io.out(`\n${plan}`);
    io.out(`\n${renderRecap(summary.results, flags.check, terminalRecapStyle)}`);
  }
  setExit(code);
}

/** What -vv and -vvv add: each exec with its result, then ssh2's own account of each connection, on stderr. */
function verbosityTraces(io: CliIo, verbose: number): Pick<RunOptions, 'traceExec' | 'traceSsh'> {
  return {
    ...(verbose >= 2 ? { traceExec: (host: string, trace: ExecTrace) => io.err(renderExecTrace(host, trace).join('\n')) } : {}),
    ...(verbose >= 3 ? { traceSsh: (host: string, message: string) => io.err(renderSshTrace(host, message)) } : {}),
  };
}
