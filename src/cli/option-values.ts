import { InvalidArgumentError, Option } from 'commander';
import { shortened } from '../errors.js';

/** Parses a whole-number option within bounds; commander shows the message and exits 4. */
export function wholeNumber(value: string, flag: string, min: number, max: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) throw new InvalidArgumentError(`${flag} takes a whole number from ${min} to ${max}, not ${value}`);
  return number;
}

/**
 * An option that names one file (-i, -p, -F): given again, it is refused. Commander keeps the last
 * value, so `apply -i a.yaml -i b.yaml` ran on b.yaml alone and left a.yaml's hosts out in silence.
 */
export function oneFile(flag: string, what: string): (value: string, previous?: string) => string {
  return (value, previous) => {
    if (previous !== undefined) throw new InvalidArgumentError(`${flag} is given twice (${shortened(previous)}, then ${shortened(value)}): ${what}`);
    return value;
  };
}

/** -i of every command but validate: one inventory a run. */
export const oneInventory = oneFile('-i', 'one inventory a run (`lvsprov validate` checks several)');

/** -F, as ssh takes it: the OpenSSH client config to read instead of the default. */
export function sshConfigOption(): Option {
  return new Option('-F, --ssh-config <file>', "OpenSSH client config to read (default: the inventory's ssh.config_file, else ~/.ssh/config; `none` reads none)").argParser(oneFile('-F', 'one ssh config file'));
}

/**
 * A comma-separated option (--limit, --tags) whose every term matches `term`. An empty value or term
 * is refused: `-l "$HOSTS"` with the variable unset would otherwise select every host.
 */
export function commaTerms(flag: string, term: RegExp, what: string): (value: string, previous?: string) => string {
  // Given again (`-t a -t b`, as Ansible takes its tags), the terms add up: the last one alone
  // would drop the others in silence.
  return (value, previous) => {
    const terms = value.split(',').map((item) => item.trim());
    if (terms.every((item) => item === '')) throw new InvalidArgumentError(`${flag} is empty; name ${what} (an unset shell variable?)`);
    const empty = terms.findIndex((item) => item === '');
    if (empty !== -1) throw new InvalidArgumentError(`${flag} has an empty term (two commas in a row, or one at an end) in ${JSON.stringify(shortened(value))}`);
    const bad = terms.find((item) => !term.test(item));
    if (bad !== undefined) throw new InvalidArgumentError(`${flag} takes ${what}; ${JSON.stringify(shortened(bad))} is not one`);
    return previous === undefined ? value : `${previous},${value}`;
  };
}

/** A --limit term: a host or group name, a glob over names (rs*, web?), either after a ! to exclude. */
export const limitTerm = /^!?[A-Za-z0-9_.*?-]+$/;
/** A tag, as a playbook writes one. */
export const tagTerm = /^[A-Za-z0-9_.-]+$/;

/** A repeatable folder option (--roles-path): each value given, none empty. */
export function folders(flag: string): (value: string, previous: string[]) => string[] {
  return (value, previous) => {
    if (value.trim() === '') throw new InvalidArgumentError(`${flag} is empty; name a folder (an unset shell variable?)`);
    return [...previous, value];
  };
}

/** The most seconds a run waits on anything: a year, far beyond any drain or lock, and a number the hosts' shells (64-bit arithmetic, in hundredths) take. */
export const MAX_WAIT_SECONDS = 365 * 24 * 3600;

/** Seconds written in plain decimal, 0 to MAX_WAIT_SECONDS (`1e21` would reach the hosts' shells as 1e+21, which they cannot compare). */
export function waitSeconds(value: string, flag: string): number {
  const number = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || number > MAX_WAIT_SECONDS) throw new InvalidArgumentError(`${flag} takes a number of seconds from 0 to ${MAX_WAIT_SECONDS} (a year), written like 60 or 0.5, not ${value}`);
  return number;
}
