// The yes/no keywords lvsprov reads from an OpenSSH client config, with the words ssh takes for
// each (readconf.c: parse_flag's multistate_flag, and the tables of StrictHostKeyChecking and
// CanonicalizeHostname), case aside. ssh refuses any other word on any line, in a block that
// applies or not ("unsupported option"), and so does lvsprov: read as `no`, `CheckHostIP sure`
// or `StrictHostKeyChecking maybe` would quietly have meant the default.

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

/** Why `values` cannot follow `keyword` (lowercased); undefined when they can, or the keyword is not one of these. */
export function flagProblem(keyword: string, values: readonly string[]): string | undefined {
  const known = WORDS[keyword];
  if (known === undefined) return undefined;
  const [value] = values;
  if (value !== undefined && known.words.includes(value.toLowerCase())) return undefined;
  return `${known.name} takes ${known.words.join(', ')}, not ${value === undefined ? 'nothing' : JSON.stringify(value)} (ssh refuses the line too: "unsupported option")`;
}
