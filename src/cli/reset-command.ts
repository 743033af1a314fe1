import type { Command } from 'commander';
import { playbookCommand, runPlaybook, type PlaybookFlags } from './playbook-command.js';
import type { CliIo } from './io.js';

// The playbook read backwards: what its tasks put on the hosts is removed, and nothing else.
// Each resource type decides what that means for it (see `reset` in src/resources).

export function resetCommand(io: CliIo, setExit: (code: number) => void): Command {
  return playbookCommand(
    'reset',
    'remove what the playbook put on every host: VIPs, routes, IPVS services, arptables rules, files; sysctls back to their recorded originals',
  ).action((flags: PlaybookFlags) => runPlaybook(io, setExit, flags, 'reset'));
}
