import { ConfigError } from '../errors.js';
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
  certificatefile: 'CertificateFile',
  pkcs11provider: 'PKCS11Provider',
  securitykeyprovider: 'SecurityKeyProvider',
  canonicalizehostname: 'CanonicalizeHostname',
  bindaddress: 'BindAddress',
  bindinterface: 'BindInterface',
  addressfamily: 'AddressFamily',
  // ssh would also check the address's key and record `name,address` lines.
  checkhostip: 'CheckHostIP',
};

/** Values under which a keyword changes nothing, so there is nothing to say. */
const inert = new Set(['none', 'no', 'any']);

/** A ConfigError at the line of a keyword lvsprov must not ignore (`whom`: the host or jump host). */
export function refuseUnsafeKeywords(config: ResolvedSshConfig, whom: string): void {
  for (const [keyword, message] of Object.entries(refused)) {
    const found = config.values.get(keyword);
    if (found && !inert.has(found.values.join(' ').toLowerCase())) {
      throw new ConfigError([{ file: found.file, line: found.line, col: 1, path: '', message: `${message} (for ${whom})` }]);
    }
  }
}

/** One line per keyword that ssh would apply and lvsprov does not. */
export function notAppliedKeywords(config: ResolvedSshConfig): string[] {
  return Object.entries(notApplied).flatMap(([keyword, name]) => {
    const found = config.values.get(keyword);
    if (!found || inert.has(found.values.join(' ').toLowerCase())) return [];
    return [`${found.origin}: ${name} ${found.values.join(' ')} is not applied by lvsprov (ssh would)`];
  });
}
