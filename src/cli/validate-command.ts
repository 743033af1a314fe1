import { Command } from 'commander';
import { prepareRun } from './load-run.js';
import type { CliIo } from './io.js';
import { addSelectionOptions, limitTerms, printListing, tagSelection, type SelectionFlags } from './selection-options.js';

export function validateCommand(io: CliIo): Command {
  const command = new Command('validate')
    .description('check the inventory, playbook and roles without contacting any host')
    .requiredOption('-i, --inventory <file>', 'inventory YAML')
    .option('-p, --playbook <file>', 'playbook YAML (default: playbooks/site.yaml)');
  return addSelectionOptions(command).action((flags: { inventory: string; playbook?: string } & SelectionFlags) => {
    const prepared = prepareRun(flags.inventory, flags.playbook, limitTerms(flags), tagSelection(flags));
    for (const warning of prepared.run.warnings) io.err(`warning: ${warning}`);
    if (printListing(io, prepared, flags)) return;
    const tasks = [...prepared.run.hosts.values()].reduce((sum, list) => sum + list.length, 0);
    io.out(`${flags.inventory}: valid; ${prepared.run.hosts.size} hosts, ${tasks} tasks`);
  });
}
