import { InvalidArgumentError, Option } from 'commander';

/** Parses a whole-number option within bounds; commander shows the message and exits 4. */
export function wholeNumber(value: string, flag: string, min: number, max: number): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) throw new InvalidArgumentError(`${flag} takes a whole number from ${min} to ${max}, not ${value}`);
  return number;
}

/** -F, as ssh takes it: the OpenSSH client config to read instead of the default. */
export function sshConfigOption(): Option {
  return new Option('-F, --ssh-config <file>', "OpenSSH client config to read (default: the inventory's ssh.config_file, else ~/.ssh/config; `none` reads none)");
}
