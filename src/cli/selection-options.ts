import type { Command } from 'commander';
import type { TagSelection } from '../config/compile.js';
import { listingJson, renderHostList, renderTaskList } from '../report/run-listing.js';
import type { CliIo } from './io.js';
import type { PreparedRun } from './load-run.js';
import { commaTerms, limitTerm, tagTerm } from './option-values.js';

// Which hosts and tasks a run takes, shared by apply, reset and validate: --limit with globs and
// !exclusions, --tags/--skip-tags, and --list-hosts/--list-tasks, which print and contact nobody.

export interface SelectionFlags {
  limit?: string;
  tags?: string;
  skipTags?: string;
  listHosts: boolean;
  listTasks: boolean;
}

const commaList = (value: string | undefined): string[] | undefined =>
  value === undefined ? undefined : value.split(',').map((item) => item.trim()).filter(Boolean);

/** -l as every command parses it. */
export const limitOption = commaTerms('--limit', limitTerm, 'hosts or groups: names, globs (rs*), exclusions (!rs3)');

export function addSelectionOptions(command: Command, limit = true): Command {
  if (limit) command.option('-l, --limit <hosts>', "hosts or groups to run on: comma-separated names, globs (rs*), exclusions (!rs3), e.g. 'rs*,!rs3'", limitOption);
  return command
    .option('-t, --tags <tags>', 'only tasks with one of these comma-separated tags (tasks tagged always too)', commaTerms('--tags', tagTerm, 'tags (letters, digits, _ . -)'))
    .option('--skip-tags <tags>', 'leave out tasks with any of these comma-separated tags', commaTerms('--skip-tags', tagTerm, 'tags (letters, digits, _ . -)'))
    .option('--list-hosts', 'print the hosts the run would touch and exit; contacts nobody', false)
    .option('--list-tasks', 'print each host\'s tasks, with their tags, and exit; contacts nobody', false);
}

export function limitTerms(flags: Pick<SelectionFlags, 'limit'>): string[] | undefined {
  return commaList(flags.limit);
}

export function tagSelection(flags: Pick<SelectionFlags, 'tags' | 'skipTags'>): TagSelection {
  const only = commaList(flags.tags);
  const skip = commaList(flags.skipTags);
  return { ...(only ? { only } : {}), ...(skip ? { skip } : {}) };
}

/** Prints the listing asked for (as one JSON document with `json`); true when one was (the command then stops). */
export function printListing(io: CliIo, prepared: PreparedRun, flags: SelectionFlags & { json?: boolean }): boolean {
  if ((flags.listHosts || flags.listTasks) && flags.json === true) {
    io.out(JSON.stringify(listingJson(prepared.run, flags.listTasks)));
    return true;
  }
  if (flags.listHosts) io.out(renderHostList(prepared.run));
  if (flags.listTasks) io.out(`${flags.listHosts ? '\n' : ''}${renderTaskList(prepared.run)}`);
  return flags.listHosts || flags.listTasks;
}
