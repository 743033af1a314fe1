import type { Command } from 'commander';

/**
 * Moves the check of `command`'s required options after commander's check of unknown ones:
 * `apply --chekc` must be told of its typo (and offered --check), not that -i is missing, which
 * commander checks first. The options stay required: a hook that runs before the action, after
 * the unknown-option check, says what commander would have said, with its code.
 */
export function checkRequiredOptionsLast(command: Command): void {
  const required = command.options.filter((option) => option.mandatory);
  if (required.length === 0) return;
  for (const option of required) option.mandatory = false;
  command.hook('preAction', (thisCommand, actionCommand) => {
    if (actionCommand !== thisCommand) return;
    for (const option of required) {
      if (thisCommand.getOptionValue(option.attributeName()) === undefined) {
        thisCommand.error(`error: required option '${option.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue', exitCode: 1 });
      }
    }
  });
}
