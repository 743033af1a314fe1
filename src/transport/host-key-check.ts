import { checkHostCertificate, isCertificate } from './host-certificate.js';
import { fingerprint, verdictFor, type KnownKey } from './known-hosts.js';
import type { CertificateSupport } from './ssh2-host-certificates.js';

// What to make of the key a host presents in its handshake: a plain key is looked up in the
// known_hosts files; a certificate is checked against the @cert-authority lines that cover the
// host, and, when none of them trusts its CA, its certified key is looked up as a plain key (what
// ssh(1) does). Pure: the caller reads the files and acts on the verdict.

export interface RecordedHostKeys {
  /** The name looked up (HostKeyAlias or the address). */
  readonly name: string;
  /** The keys recorded for the host, @revoked ones among them. */
  readonly keys: readonly KnownKey[];
  /** The CA keys of the @cert-authority lines that match the host. */
  readonly authorities: readonly KnownKey[];
  /** The files these came from, for messages. */
  readonly files: string;
}

export type HostKeyDecision =
  | { readonly accept: true; /** A new plain key to record (--accept-new-host-keys, accept-new). */ readonly record?: Buffer }
  | { readonly accept: false; readonly reason: string };

export interface HostKeyPolicy {
  readonly acceptNew: boolean;
  readonly certificates: CertificateSupport;
  readonly now: Date;
}

export function checkHostKey(presented: Buffer, recorded: RecordedHostKeys, policy: HostKeyPolicy): HostKeyDecision {
  let blob = presented;
  let certificateFault: string | undefined;
  if (isCertificate(presented)) {
    const certificate = checkHostCertificate(presented, { ...recorded, now: policy.now });
    if (certificate.kind === 'trusted') return { accept: true };
    if (certificate.kind === 'revoked') return { accept: false, reason: `host refused: ${certificate.reason}` };
    if (!certificate.key) return { accept: false, reason: certificate.reason };
    blob = certificate.key;
    certificateFault = certificate.reason;
  }
  const verdict = verdictFor(recorded.keys, blob);
  if (verdict.kind === 'match') return { accept: true };
  if (verdict.kind === 'unknown' && policy.acceptNew) return { accept: true, record: blob };
  const key = `host key ${fingerprint(blob)}`;
  const fault = certificateFault === undefined ? '' : `; the host's certificate was not accepted: ${certificateFault}`;
  if (verdict.kind === 'revoked') return { accept: false, reason: `${key} is marked @revoked in ${recorded.files}` };
  if (verdict.kind === 'changed') {
    return {
      accept: false,
      reason:
        `HOST KEY CHANGED: the host presented ${fingerprint(blob)} but ${recorded.files} records ${verdict.expected.join(', ')}${fault}; ` +
        'this may be an attack or a reinstalled host; remove the old key from known_hosts only if you know why it changed',
    };
  }
  if (recorded.authorities.length === 0) {
    return { accept: false, reason: `${key} is not in ${recorded.files}${fault}; check it and re-run with --accept-new-host-keys to record it` };
  }
  const why =
    certificateFault !== undefined
      ? `and the host's certificate was not accepted: ${certificateFault}`
      : policy.certificates.active
        ? 'and the host presented its plain key, no certificate (is HostCertificate set in its sshd_config?)'
        : `and host certificates cannot be negotiated here (${policy.certificates.reason ?? 'unknown reason'}), so the host presented its plain key`;
  return {
    accept: false,
    reason: `${key} is not in ${recorded.files}; ${recorded.name} is known there only through @cert-authority, ${why}`,
  };
}
