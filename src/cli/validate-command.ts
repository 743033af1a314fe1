import { Command } from 'commander';
import { appendAll } from '../config/append-all.js';
import { ConfigError, UsageError, type ConfigProblem } from '../errors.js';
import { prepareRun } from './load-run.js';
import type { CliIo } from './io.js';
import { folders, oneFile } from './option-values.js';
import { addSelectionOptions, limitTerms, printListing, tagSelection, type SelectionFlags } from './selection-options.js';

// Several inventories at once (`validate -i a.yaml -i b.yaml` or `validate a.yaml b.yaml`): each
// is checked on its own, every problem of every file is reported, and one bad file makes exit 4.

const counted = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function validateCommand(io: CliIo): Command {
  const command = new Command('validate')
    .description('check inventories, the playbook and roles without contacting any host')
    .argument('[inventories...]', 'inventory YAML files (the same as -i for each)')
    .option('-i, --inventory <file>', 'inventory YAML (repeatable; - for standard input)', collect, [])
    .option('-p, --playbook <file>', "playbook YAML (- for standard input; default: the inventory's `playbook`, else the site playbook lvsprov ships)", oneFile('-p', 'one playbook for every inventory'))
    .option('--roles-path <dir>', 'a folder of your own roles, searched first (repeatable)', folders('--roles-path'), []);
  return addSelectionOptions(command).action((positional: string[], flags: { inventory: string[]; playbook?: string; rolesPath: string[] } & SelectionFlags) => {
    const inventories = [...flags.inventory, ...positional];
    if (inventories.length === 0) throw new UsageError('validate needs an inventory: validate -i FILE (or validate FILE...)');
    const problems: ConfigProblem[] = [];
    for (const inventory of inventories) {
      try {
        const prepared = prepareRun({ inventory, playbook: flags.playbook, rolesPath: flags.rolesPath, limit: limitTerms(flags), tags: tagSelection(flags) });
        for (const warning of prepared.run.warnings) io.err(`warning: ${inventories.length > 1 ? `${prepared.inventory.file}: ` : ''}${warning}`);
        if (printListing(io, prepared, flags)) continue;
        const tasks = [...prepared.run.hosts.values()].reduce((sum, list) => sum + list.length, 0);
        io.out(`${prepared.inventory.file}: valid; ${counted(prepared.run.hosts.size, 'host')}, ${counted(tasks, 'task')}`);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        appendAll(problems, error.problems);
      }
    }
    if (problems.length > 0) throw new ConfigError(problems);
  });
}
