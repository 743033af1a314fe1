import type { Command } from 'commander';
import { playbookCommand, type PlaybookFlags } from './playbook-command.js';
import type { CliIo } from './io.js';

export function applyCommand(io: CliIo, setExit: (code: number) => void): Command {
  return playbookCommand('apply', 'bring every host of the inventory to the state its playbook describes').action(async (flags: PlaybookFlags) => {
    const { runPlaybook } = await import('./playbook-run.js');
    await runPlaybook(io, setExit, flags, 'apply');
  });
}
