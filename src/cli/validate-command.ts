import { Command } from 'commander';
import { prepareRun } from './load-run.js';
import type { CliIo } from './io.js';

export function validateCommand(io: CliIo): Command {
  return new Command('validate')
    .description('check the inventory, playbook and roles without contacting any host')
    .requiredOption('-i, --inventory <file>', 'inventory YAML')
    .option('-p, --playbook <file>', 'playbook YAML (default: playbooks/site.yaml)')
    .action((flags: { inventory: string; playbook?: string }) => {
      const prepared = prepareRun(flags.inventory, flags.playbook);
      for (const warning of prepared.run.warnings) io.err(`warning: ${warning}`);
      const tasks = [...prepared.run.hosts.values()].reduce((sum, list) => sum + list.length, 0);
      io.out(`${flags.inventory}: valid; ${prepared.run.hosts.size} hosts, ${tasks} tasks`);
    });
}
