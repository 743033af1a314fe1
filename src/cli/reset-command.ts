import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { playbookCommand, type BeforeRun, type PlaybookFlags } from './playbook-command.js';
import { describeWarning, liveTrafficWarnings } from './reset-guard.js';
import { interruptedAnswer, type CliIo } from './io.js';
import { ExitCode } from './exit-codes.js';

// The playbook read backwards: what its tasks put on the hosts is removed, and nothing else.
// Each resource type decides what that means for it (see `reset` in src/resources).
//
// A reset takes VIPs and IPVS services away from live servers, so it is confirmed: on a terminal
// by typing `yes`, elsewhere (cron, CI, a pipe) by --yes, since nobody can answer there.

function confirmation(io: CliIo, setExit: (code: number) => void): BeforeRun {
  return async (prepared, flags) => {
    const hosts = [...prepared.run.hosts.keys()];
    const warnings = liveTrafficWarnings(prepared.inventory, new Set(hosts));
    for (const warning of warnings) io.err(`warning: ${describeWarning(warning)}`);
    const resetFlags = flags as PlaybookFlags & { yes: boolean };
    if (flags.check || resetFlags.yes) return true;
    if (!io.ask) throw new UsageError(`reset removes what the playbook put on ${hosts.length} host(s) (${hosts.join(', ')}); there is no terminal to confirm on: re-run with --yes`);
    const answer = await io.ask(`reset ${hosts.length} host(s) (${hosts.join(', ')}): remove their VIPs, routes, IPVS services, rules and files? type yes to go on: `);
    if (answer === interruptedAnswer) {
      io.err('reset interrupted at its prompt; nothing was changed');
      setExit(ExitCode.interrupted);
      return false;
    }
    if (answer.trim().toLowerCase() === 'yes') return true;
    io.err('reset cancelled; nothing was changed');
    return false;
  };
}

export function resetCommand(io: CliIo, setExit: (code: number) => void): Command {
  return playbookCommand(
    'reset',
    'remove what the playbook put on every host: VIPs, routes, IPVS services, arptables rules, files; sysctls back to their recorded originals',
  )
    .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)', false)
    .action(async (flags: PlaybookFlags) => {
      const { runPlaybook } = await import('./playbook-run.js');
      await runPlaybook(io, setExit, flags, 'reset', confirmation(io, setExit));
    });
}
