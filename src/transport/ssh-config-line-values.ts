import { sshPort } from './service-port.js';

// Values ssh refuses on any line of its config, in a block that applies or not (readconf.c checks
// a line's value before it asks whether the block is active), for the keywords lvsprov reads. The
// value that applies is held to lvsprov's own grammar later (config/ssh-config-values.ts); this
// refuses no more than ssh does, so that a config for other hosts ssh reads is read too.
//
// The yes/no keywords, with the words ssh takes for each (parse_flag's multistate_flag, and the
// tables of StrictHostKeyChecking and CanonicalizeHostname), case aside: another word is
// "unsupported option" to ssh, where `CheckHostIP sure` read as `no` would quietly mean the default.

const FLAG = ['yes', 'no', 'true', 'false'];

const WORDS: Readonly<Record<string, { readonly name: string; readonly words: readonly string[] }>> = {
  batchmode: { name: 'BatchMode', words: FLAG },
  canonicalizefallbacklocal: { name: 'CanonicalizeFallbackLocal', words: FLAG },
  canonicalizehostname: { name: 'CanonicalizeHostname', words: [...FLAG, 'always'] },
  checkhostip: { name: 'CheckHostIP', words: FLAG },
  hashknownhosts: { name: 'HashKnownHosts', words: FLAG },
  identitiesonly: { name: 'IdentitiesOnly', words: FLAG },
  stricthostkeychecking: { name: 'StrictHostKeyChecking', words: ['yes', 'no', 'ask', 'accept-new', 'off', 'true', 'false'] },
};

const secondsPer: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const INT_MAX = 2 ** 31 - 1;

/** A time as ssh's convtime() reads it (`90`, `90s`, `1m30s`, `2H`, `1w`), in seconds; undefined where it refuses it, a total above INT_MAX too. */
export function sshTimeSeconds(value: string): number | undefined {
  if (!/^(\+?\d+[smhdw]?)+$/i.test(value)) return undefined;
  let total = 0;
  for (const [, count, unit] of value.matchAll(/\+?(\d+)([smhdw]?)/gi)) total += Number(count) * (secondsPer[(unit ?? '').toLowerCase()] ?? 1);
  return total <= INT_MAX ? total : undefined;
}

/** What each of these keywords takes, said the same for any line and for the value that applies. */
export const wanted = {
  port: 'Port must be a whole number 1-65535 or a tcp service name in /etc/services',
  connecttimeout: "ConnectTimeout must be a whole number of seconds 0-600 (the inventory's connect_timeout limit), none, or a time as ssh reads it (10s, 1m)",
  serveraliveinterval: 'ServerAliveInterval must be a whole number of seconds 0-3600 (0: no keepalives) or a time as ssh reads it (90s, 1m30s)',
  serveralivecountmax: 'ServerAliveCountMax must be a whole number 0-100',
} as const;

/** Whether ssh reads `value` for this keyword; undefined for a keyword not checked here. */
function sshReads(keyword: string, value: string): boolean | undefined {
  switch (keyword) {
    case 'port':
      return sshPort(value) !== undefined;
    case 'connecttimeout':
    case 'serveraliveinterval':
      return value === 'none' || sshTimeSeconds(value) !== undefined;
    case 'serveralivecountmax':
      return /^\+?\d+$/.test(value);
    default:
      return undefined;
  }
}

/** Keywords lvsprov reads that take one value: ssh refuses a second one ("extra arguments at end of line"). */
const ONE_VALUE: ReadonlySet<string> = new Set(
  'batchmode canonicalizefallbacklocal canonicalizehostname canonicalizemaxdots certificatefile checkhostip connecttimeout hashknownhosts hostkeyalias hostname identitiesonly identityagent identityfile ignoreunknown port serveralivecountmax serveraliveinterval stricthostkeychecking user'.split(' '),
);

/** Keywords whose list may be `none`, alone (parse_char_array). */
const NONE_ALONE: ReadonlySet<string> = new Set(['userknownhostsfile', 'globalknownhostsfile']);

/** Why ssh would refuse the line `keyword values...` (keyword lowercased); undefined when it would not. */
export function lineValueProblem(keyword: string, values: readonly string[]): string | undefined {
  const [value] = values;
  // ssh reads the value before it looks for more (a bad port is said before extra arguments).
  const valueProblem = value !== undefined && sshReads(keyword, value) === false ? `${wanted[keyword as keyof typeof wanted]}, not ${JSON.stringify(value)} (ssh refuses the line too)` : flagProblem(keyword, value);
  if (valueProblem !== undefined) return valueProblem;
  if (ONE_VALUE.has(keyword) && values.length > 1) return `${keyword} takes one value, not ${values.length} (${values.map((each) => JSON.stringify(each)).join(' ')}); quote a value that holds a blank (ssh refuses the line too: "extra arguments at end of line")`;
  if (NONE_ALONE.has(keyword) && values.length > 1 && values.some((each) => each.toLowerCase() === 'none')) return `${keyword} none must stand alone, not beside other files (ssh refuses the line too: "none" argument must appear alone)`;
  return undefined;
}

function flagProblem(keyword: string, value: string | undefined): string | undefined {
  const known = WORDS[keyword];
  if (known === undefined) return undefined;
  if (value !== undefined && known.words.includes(value.toLowerCase())) return undefined;
  return `${known.name} takes ${known.words.join(', ')}, not ${value === undefined ? 'nothing' : JSON.stringify(value)} (ssh refuses the line too: "unsupported option")`;
}
