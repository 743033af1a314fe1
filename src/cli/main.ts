// First: every schema the imports below build is built jitless.
import './zod-jitless.js';
import { Command, CommanderError } from 'commander';
import { ConfigError, UsageError, withArgumentsShown } from '../errors.js';
import { applyCommand } from './apply-command.js';
import { ExitCode } from './exit-codes.js';
import { jsonAsked, jsonRefusalWanted } from './json-refusal.js';
import { processIo, type CliIo } from './io.js';
import { checkRequiredOptionsLast } from './required-options.js';
import { graphCommand } from './graph-command.js';
import { labCommand } from './lab-command.js';
import { resetCommand } from './reset-command.js';
import { schemaCommand } from './schema-command.js';
import { sshConfigCommand } from './ssh-config-command.js';
import { statusCommand } from './status-command.js';
import { validateCommand } from './validate-command.js';
import { verifyCommand } from './verify-command.js';
import { packageVersion } from './version.js';

// The only place that catches errors and decides the exit code.

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let code: number = ExitCode.ok;
  const setExit = (value: number): void => {
    code = value;
  };
  const output = { writeOut: (text: string) => io.out(text.trimEnd()), writeErr: (text: string) => io.err(withArgumentsShown(text.trimEnd(), argv.slice(2))) };
  const program = new Command('lvsprov')
    .description('declarative provisioning of Linux Virtual Server (IPVS) clusters over SSH')
    .version(packageVersion(), '-V, --version', 'print the version of lvsprov')
    // Options after a subcommand belong to it, so `lab exec HOST CMD -x` passes -x on to CMD.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput(output)
    // A typo gets its error, the suggestion and where to look, not forty lines of help above the
    // prompt (git and npm do the same).
    .showHelpAfterError("(run 'lvsprov --help' for the commands)");
  // The command whose command line commander refused, for its --json.
  let refusedBy: Command | undefined;
  for (const command of [applyCommand(io, setExit), resetCommand(io, setExit), validateCommand(io), verifyCommand(io, setExit), statusCommand(io, setExit), graphCommand(io), labCommand(io, setExit), sshConfigCommand(io), schemaCommand(io)]) {
    program.addCommand(command);
    // Subcommands (`lab up`) too: addCommand does not hand the output on, and commander's
    // messages must reach the terminal with the arguments escaped wherever they come from.
    for (const each of [command, ...command.commands]) {
      each
        .exitOverride((error) => {
          refusedBy = each;
          throw error;
        })
        .configureOutput(output);
      checkRequiredOptionsLast(each);
    }
  }

  // `help aply` gets what `aply` gets: commander's unknown-command error with its suggestion
  // (commander itself prints the general help there, with no word of the typo).
  // The command that ran, for its --json: a reader of stdout gets the refusal as JSON too.
  let invoked: Command | undefined;
  program.hook('preAction', (_program, actionCommand) => {
    invoked = actionCommand;
  });
  const asJson = (document: object): void => {
    if (invoked?.opts<{ json?: boolean }>().json === true) io.out(JSON.stringify(document));
  };

  const [first, topic] = argv.slice(2);
  const helpTopicUnknown = first === 'help' && topic !== undefined && !program.commands.some((command) => command.name() === topic || command.aliases().includes(topic));
  try {
    await program.parseAsync(helpTopicUnknown ? [...argv.slice(0, 2), ...argv.slice(3)] : [...argv]);
    // Output lost to a full disk is a command that did not do its job, unless its code says more.
    await io.flush?.();
    return code === ExitCode.ok && io.outputFailure?.() !== undefined ? ExitCode.internal : code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) {
        // --help and --version are output too: one a full disk swallowed did not do its job.
        await io.flush?.();
        return io.outputFailure?.() !== undefined ? ExitCode.internal : ExitCode.ok;
      }
      const words = argv.slice(2);
      const jsonWanted = error.code === 'commander.unknownCommand' ? jsonAsked(words) : jsonRefusalWanted(refusedBy, words);
      if (jsonWanted) io.out(JSON.stringify({ exitCode: ExitCode.invalidInput, error: error.message.replace(/^error: /, ''), problems: [] }));
      return ExitCode.invalidInput;
    }
    if (error instanceof ConfigError) {
      for (const problem of error.message.split('\n')) io.err(problem);
      const summary = `${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}; no host was contacted`;
      io.err(summary);
      asJson({ exitCode: ExitCode.invalidInput, error: summary, problems: error.problems });
      return ExitCode.invalidInput;
    }
    if (error instanceof UsageError) {
      io.err(error.message);
      asJson({ exitCode: ExitCode.invalidInput, error: error.message, problems: [] });
      return ExitCode.invalidInput;
    }
    io.err(`internal error: ${(error as Error).stack ?? String(error)}`);
    return ExitCode.internal;
  }
}
