import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DRAIN_TIMEOUT } from '../engine/drain-timeout.js';
import { isIpv4 } from '../net/ipv4.js';
import type { PreparedRun } from './load-run.js';
import { folders, oneFile, oneInventory, sshConfigOption, waitSeconds, wholeNumber } from './option-values.js';
import { addSelectionOptions, type SelectionFlags } from './selection-options.js';

// apply and reset are one pipeline with two planners, so they share their options, their
// progress display and their report; only the mode handed to the engine differs. This file
// declares the options; the run itself (playbook-run.ts) loads when a command runs, so that
// validate, graph and the others do not load the engine and the transport.

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
  /** How many times -v was given: 1 the commands, 2 each exec, 3 the SSH layer. */
  verbose: number;
  rolesPath: string[];
  sshConfig?: string;
  stoppedPeer: string[];
}

/** Runs between preparing and connecting: reset asks for confirmation here. False stops the run. */
export type BeforeRun = (prepared: PreparedRun, flags: PlaybookFlags) => Promise<boolean>;

export function playbookCommand(name: string, description: string): Command {
  const command = new Command(name)
    .description(description)
    .requiredOption('-i, --inventory <file>', 'inventory YAML (- for standard input)', oneInventory)
    .option('-p, --playbook <file>', "playbook YAML (- for standard input; default: the inventory's `playbook`, else the site playbook lvsprov ships)", oneFile('-p', 'one playbook a run'))
    .option('-C, --check', 'plan only: show what would change and change nothing', false)
    .addOption(new Option('--dry-run', 'alias of --check').implies({ check: true }))
    .option('-D, --diff', 'show the exact edits: unified diffs for files, before -> after for values', false)
    .option('--exit-code', 'exit 6 when something changed (or, with --check, would change) and no host failed: a drift alarm for cron and CI', false)
    .option(
      '-v, --verbose',
      'more detail, repeatable: -v the commands each change runs; -vv also each script a host runs over SSH, its exit status, stdout and stderr (on stderr); -vvv also the SSH layer: algorithms, authentication methods tried (on stderr)',
      (_value: string, previous: number) => previous + 1,
      0,
    )
    .option('-f, --forks <n>', 'hosts handled at once (default: every host; SSH handshakes are limited by the cores apart from this)', (value) => wholeNumber(value, '--forks', 1, 10_000))
    .option('--roles-path <dir>', "a folder of your own roles, searched first (repeatable; before the inventory's roles_path)", folders('--roles-path'), [])
    .addOption(sshConfigOption())
    .option('--json', 'print the results as JSON on stdout (progress still goes to stderr)', false)
    .option('--accept-new-host-keys', 'record the keys of hosts not yet in known_hosts (a changed key is always refused)', false)
    .option('--lock-timeout <seconds>', 'wait this long for another run that holds a host, then fail that host', (value) => waitSeconds(value, '--lock-timeout'), 60)
    .option(
      '--drain-timeout <seconds>',
      'how long directors wait for leaving real servers to have no active connection before deleting them (0: no wait, one look counts what is cut)',
      (value) => waitSeconds(value, '--drain-timeout'),
      DEFAULT_DRAIN_TIMEOUT,
    )
    .option(
      '--stopped-peer <address>',
      "a VRRP peer whose keepalived you stopped (or whose host is gone): the directors may drop it from their configs (repeatable)",
      (value: string, previous: string[]) => [...previous, ipv4Address(value, '--stopped-peer')],
      [],
    );
  return addSelectionOptions(command);
}

function ipv4Address(value: string, flag: string): string {
  if (!isIpv4(value)) throw new InvalidArgumentError(`${flag} takes an IPv4 address (a peer's unicast address in keepalived.conf), not ${value}`);
  return value;
}
