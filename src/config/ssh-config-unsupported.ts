import { ConfigError } from '../errors.js';
import { ipv4Problem } from '../net/ipv4.js';
import type { ResolvedSshConfig } from '../transport/ssh-config.js';

// ssh_config keywords that would make ssh(1) connect differently and that lvsprov does not apply.
// Two would leave lvsprov trusting a host key that ssh would refuse or check elsewhere: they are
// refused at their line. The others change algorithms, the login's keys or the route out: each is
// said on stderr (and by `lvsprov ssh-config`), never dropped in silence.

const refused: Readonly<Record<string, string>> = {
  revokedhostkeys: 'RevokedHostKeys is not supported by lvsprov, which would accept a key revoked there; mark the keys `@revoked` in known_hosts instead',
  knownhostscommand: 'KnownHostsCommand is not supported by lvsprov, which runs no local command; put the keys in a known_hosts file (UserKnownHostsFile or GlobalKnownHostsFile)',
};

const notApplied: Readonly<Record<string, string>> = {
  ciphers: 'Ciphers',
  macs: 'MACs',
  kexalgorithms: 'KexAlgorithms',
  hostkeyalgorithms: 'HostKeyAlgorithms',
  pubkeyacceptedalgorithms: 'PubkeyAcceptedAlgorithms',
  casignaturealgorithms: 'CASignatureAlgorithms',
  pkcs11provider: 'PKCS11Provider',
  securitykeyprovider: 'SecurityKeyProvider',
  bindaddress: 'BindAddress',
  bindinterface: 'BindInterface',
  addressfamily: 'AddressFamily',
};

/** Values under which a keyword changes nothing, so there is nothing to say. */
const inert = new Set(['none', 'no', 'any']);

/**
 * Keywords that change nothing for a login with keys (lvsprov's only kind) under most values,
 * named only under those where ssh would offer no key: PubkeyAuthentication no (yes, unbound and
 * host-bound offer them), a PreferredAuthentications list without publickey.
 */
const keysWithheld: Readonly<Record<string, { readonly name: string; readonly withholds: (value: string) => boolean }>> = {
  pubkeyauthentication: { name: 'PubkeyAuthentication', withholds: (value) => ['no', 'false'].includes(value) },
  preferredauthentications: { name: 'PreferredAuthentications', withholds: (value) => !value.split(',').includes('publickey') },
};

/** How a host is reached, for the keywords whose effect depends on it. */
export interface ReachedAs {
  /** The HostName (expanded), else the name as given: what ssh resolves and connects to. */
  readonly name: string;
  /** Connected to straight, not through a jump host (ssh turns CanonicalizeHostname yes off behind a proxy). */
  readonly direct: boolean;
}

const isIpv4 = (name: string): boolean => ipv4Problem(name) === undefined;

// ssh 9.2 (ssh.c resolve_canonicalize): with CanonicalizeHostname yes (for a host reached
// straight) or always, a name that is not an address and has no more dots than
// CanonicalizeMaxDots (1) is tried with each CanonicalDomains suffix, the first that resolves
// taking its place; with none that resolves and CanonicalizeFallbackLocal no, ssh stops. The
// second reading of the files that the keyword asks for, lvsprov does.
function canonicalizeNote(config: ResolvedSshConfig, reached: ReachedAs): string[] {
  const found = config.values.get('canonicalizehostname');
  const mode = found?.values.join(' ').toLowerCase();
  if (!found || !(mode === 'always' || ((mode === 'yes' || mode === 'true') && reached.direct)) || isIpv4(reached.name)) return [];
  const maxDots = Number(config.values.get('canonicalizemaxdots')?.values[0] ?? 1);
  if (reached.name.endsWith('.') || reached.name.split('.').length - 1 > maxDots) return [];
  const domains = config.values.get('canonicaldomains')?.values ?? [];
  const fallback = config.values.get('canonicalizefallbacklocal')?.values[0]?.toLowerCase();
  const refuses = fallback === 'no' || fallback === 'false';
  if (domains.length === 0 && !refuses) return [];
  // ssh -G -o CanonicalizeHostname=yes -o CanonicalizeFallbackLocal=no t: `Could not resolve host "t"`.
  const ssh =
    domains.length > 0
      ? `would try ${domains.map((domain) => `${reached.name}.${domain.replace(/\.$/, '')}`).join(', ')} and connect to the first that resolves${refuses ? ' (and, with CanonicalizeFallbackLocal no, stop when none does)' : ''}`
      : 'would stop (no CanonicalDomains to try and CanonicalizeFallbackLocal no: "Could not resolve host")';
  return [`${found.origin}: CanonicalizeHostname ${found.values.join(' ')}${domains.length > 0 ? ` with CanonicalDomains ${domains.join(' ')}` : ''} is not applied by lvsprov: it connects to ${reached.name} as written; ssh ${ssh}`];
}

/** A ConfigError at the line of a keyword lvsprov must not ignore (`whom`: the host or jump host). */
export function refuseUnsafeKeywords(config: ResolvedSshConfig, whom: string): void {
  for (const [keyword, message] of Object.entries(refused)) {
    const found = config.values.get(keyword);
    if (found && !inert.has(found.values.join(' ').toLowerCase())) {
      throw new ConfigError([{ file: found.file, line: found.line, col: found.keywordCol, path: '', message: `${message} (for ${whom})` }]);
    }
  }
}

/** One line per keyword that ssh would apply, reaching the host as `reached` says, and lvsprov does not. */
export function notAppliedKeywords(config: ResolvedSshConfig, reached: ReachedAs): string[] {
  const plain = Object.entries(notApplied).flatMap(([keyword, name]) => {
    const found = config.values.get(keyword);
    if (!found || inert.has(found.values.join(' ').toLowerCase())) return [];
    return [`${found.origin}: ${name} ${found.values.join(' ')} is not applied by lvsprov (ssh would)`];
  });
  const withheld = Object.entries(keysWithheld).flatMap(([keyword, { name, withholds }]) => {
    const found = config.values.get(keyword);
    if (!found || !withholds(found.values.join(' ').toLowerCase())) return [];
    return [`${found.origin}: ${name} ${found.values.join(' ')} is not applied by lvsprov (ssh would): lvsprov logs in with keys alone`];
  });
  return [...plain, ...withheld, ...canonicalizeNote(config, reached)];
}
