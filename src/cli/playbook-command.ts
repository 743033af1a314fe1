import { Command, InvalidArgumentError, Option } from 'commander';
import type { RunMode } from '../engine/planners.js';
import { DEFAULT_DRAIN_TIMEOUT, runAll } from '../engine/run.js';
import { renderRecap, totals } from '../report/recap.js';
import { lockOwner } from '../lock/lock-owner.js';
import { exitCodeFor } from './exit-codes.js';
import { watchInterrupts } from './interrupts.js';
import { prepareRun, type PreparedRun } from './load-run.js';
import { listrProgress, plainProgress } from './progress.js';
import type { CliIo } from './io.js';
import { sshConfigOption } from './option-values.js';
import { addSelectionOptions, limitTerms, printListing, tagSelection, type SelectionFlags } from './selection-options.js';

// apply and reset are one pipeline with two planners, so they share their options, their
// progress display and their report; only the mode handed to the engine differs.

export interface PlaybookFlags extends SelectionFlags {
  inventory: string;
  playbook?: string;
  check: boolean;
  diff: boolean;
  forks?: number;
  json: boolean;
  acceptNewHostKeys: boolean;
  lockTimeout: number;
  drainTimeout: number;
  exitCode: boolean;
  verbose: boolean;
  rolesPath: string[];
  sshConfig?: string;
}

/** Runs between preparing and connecting: reset asks for confirmation here. False stops the run. */
export type BeforeRun = (prepared: PreparedRun, flags: PlaybookFlags) => Promise<boolean>;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function playbookCommand(name: string, description: string): Command {
  const command = new Command(name)
    .description(description)
    .requiredOption('-i, --inventory <file>', 'inventory YAML')
    .option('-p, --playbook <file>', "playbook YAML (default: the inventory's `playbook`, else the site playbook lvsprov ships)")
    .option('-C, --check', 'plan only: show what would change and change nothing', false)
    .addOption(new Option('--dry-run', 'alias of --check').implies({ check: true }))
    .option('-D, --diff', 'show the exact edits: unified diffs for files, before -> after for values', false)
    .option('--exit-code', 'exit 6 when something changed (or, with --check, would change) and no host failed: a drift alarm for cron and CI', false)
    .option('-v, --verbose', 'print the commands each change runs', false)
    .option('-f, --forks <n>', 'hosts handled at once (default: every host; SSH handshakes are limited by the cores apart from this)', (value) => positiveInt(value, '--forks'))
    .option('--roles-path <dir>', "a folder of your own roles, searched first (repeatable; before the inventory's roles_path)", collect, [])
    .addOption(sshConfigOption())
    .option('--json', 'print the results as JSON on stdout (progress still goes to stderr)', false)
    .option('--accept-new-host-keys', 'record the keys of hosts not yet in known_hosts (a changed key is always refused)', false)
    .option('--lock-timeout <seconds>', 'wait this long for another run that holds a host, then fail that host', (value) => nonNegative(value, '--lock-timeout'), 60)
    .option(
      '--drain-timeout <seconds>',
      'how long directors wait for leaving real servers to have no active connection before deleting them (0: no wait)',
      (value) => nonNegative(value, '--drain-timeout'),
      DEFAULT_DRAIN_TIMEOUT,
    );
  return addSelectionOptions(command);
}

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
  if (printListing(io, prepared, flags)) return;
  if (beforeRun && !(await beforeRun(prepared, flags))) return;
  const hosts = [...prepared.run.hosts.keys()];
  // Progress goes to stderr only, so stdout carries the report (or the JSON) alone.
  const progress = io.isTTY ? await listrProgress(hosts, flags.check) : plainProgress(io.err, flags.check);
  const interrupts = watchInterrupts(io);
  const summary = await runAll(
    prepared.run,
    prepared.targets,
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
    },
    progress.sink,
  ).finally(() => interrupts.dispose());
  await progress.finish();
  const code = exitCodeFor(summary.results, interrupts.interrupt.aborted, { changesPending: flags.exitCode });
  if (flags.json) {
    const waves = summary.plan.waves.map((wave) => ({ phase: wave.phase, hosts: wave.hosts.map((entry) => entry.host) }));
    const document = { mode, check: flags.check, totals: totals(summary.results), exitCode: code, waves, drains: summary.plan.drains, hosts: summary.results, jumpConnections: summary.jumpConnections, handshakes: summary.handshakes, ...(summary.firstConnectionMs !== undefined ? { firstConnectionMs: Math.round(summary.firstConnectionMs) } : {}) };
    io.out(JSON.stringify(document, null, 2));
  } else {
    // The text report's code (diffs, colours) loads only for it: --json and startup skip it.
    const [{ renderPlan }, { terminalRecapStyle }] = await Promise.all([import('../report/plan-text.js'), import('./colour.js')]);
    const plan = renderPlan(summary.results, { diff: flags.diff, check: flags.check, verbose: flags.verbose, waves: summary.plan, drainTimeout: summary.drainTimeout });
    if (plan) io.out(`\n${plan}`);
    io.out(`\n${renderRecap(summary.results, flags.check, terminalRecapStyle)}`);
  }
  setExit(code);
}

function nonNegative(value: string, flag: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) throw new InvalidArgumentError(`${flag} takes a number of seconds, 0 or more, not ${value}`);
  return number;
}

function positiveInt(value: string, flag: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError(`${flag} takes a whole number of at least 1, not ${value}`);
  return number;
}
