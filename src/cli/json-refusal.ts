import type { Command } from 'commander';

/**
 * Whether a command line that `command`'s parser refused (an unknown option, a bad or missing
 * value, an argument too many) asked for `--json`: the refusal then goes to stdout as JSON too,
 * as a bad inventory's does, so a script reading stdout gets the refusal rather than nothing.
 * The parser may have stopped before it reached `--json` (`--forks 0 --json`), so the words are
 * read as written: `--json` among them before a `--`, for a command that has the option.
 */
export function jsonRefusalWanted(command: Command | undefined, words: readonly string[]): boolean {
  if (!command?.options.some((option) => option.long === '--json')) return false;
  if (command.opts<{ json?: boolean }>().json === true) return true;
  return jsonAsked(words);
}

/**
 * Whether `--json` is among the words before a `--`. For a command name commander does not know
 * (`lvsprov aply -i x --json`) this is all there is to go on: the script that wrote it reads stdout.
 */
export function jsonAsked(words: readonly string[]): boolean {
  const end = words.indexOf('--');
  return (end === -1 ? words : words.slice(0, end)).includes('--json');
}
