import { Command } from 'commander';
import type { GraphFormat } from '../graph/format-names.js';
import { formatOption, outputOption } from './graph-options.js';
import type { CliIo } from './io.js';
import { oneFile, oneInventory, sshConfigOption, wholeNumber } from './option-values.js';
import { limitOption } from './selection-options.js';

// The command's options only: what it does loads when it runs (status-run.ts), so other commands
// do not load the transport, the watcher and the report.

export interface StatusFlags {
  inventory: string;
  playbook?: string;
  limit?: string;
  forks?: number;
  json: boolean;
  watch?: number;
  count?: number;
  graph: boolean;
  format?: GraphFormat;
  output?: string;
  acceptNewHostKeys: boolean;
  sshConfig?: string;
}

export function statusCommand(io: CliIo, setExit: (code: number) => void): Command {
  return new Command('status')
    .description('the live cluster: per director its IPVS table (weights, connections, rates) and the VIPs it holds; per host its drift from the playbook')
    .requiredOption('-i, --inventory <file>', 'inventory YAML (- for standard input)', oneInventory)
    .option('-p, --playbook <file>', "playbook the drift is measured against (default: the inventory's `playbook`, else the site playbook lvsprov ships)", oneFile('-p', 'one playbook a run'))
    .option('-l, --limit <hosts>', "hosts or groups to read: names, globs (rs*), exclusions (!rs3)", limitOption)
    .option('-f, --forks <n>', 'hosts read at once (default: every host; SSH handshakes are limited by the cores apart from this)', (value) => wholeNumber(value, '--forks', 1, 10_000))
    .option('--json', 'print the report as JSON (with --watch: one JSON document per line, per refresh)', false)
    .option('-w, --watch <seconds>', 'keep one connection per host open and refresh every SECONDS (Ctrl-C stops)', (value) => wholeNumber(value, '--watch', 1, 86_400))
    .option('--count <n>', 'with --watch: stop after N refreshes', (value) => wholeNumber(value, '--count', 1, 1_000_000))
    .option('--graph', 'draw the cluster (see lvsprov graph) with each real server coloured by its live state, instead of the text report', false)
    .addOption(formatOption())
    .addOption(outputOption())
    .option('--accept-new-host-keys', 'record the keys of hosts not yet in known_hosts (a changed key is always refused)', false)
    .addOption(sshConfigOption())
    .action(async (flags: StatusFlags) => {
      const { runStatus } = await import('./status-run.js');
      await runStatus(io, setExit, flags);
    });
}
