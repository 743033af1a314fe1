import { FOREVER, isCertificate, parseHostCertificate, timeOf, type HostCertificate } from './host-certificate.js';
import { readKeyFile } from './key-file.js';
import { certifiedKey } from './ssh2-user-certificates.js';

// OpenSSH user certificates on the client's side (ssh.c load_public_identity_files): read from a
// CertificateFile or a KEY-cert.pub; a file that is missing, not a certificate, or a host
// certificate is passed over, as ssh passes it over. Where each is offered and what signs it:
// offer-order.ts.

const USER_CERTIFICATE = 1;

export interface UserCertificate {
  readonly file: string;
  readonly blob: Buffer;
  readonly certificate: HostCertificate;
}

/** The user certificate in a .pub-format file (`TYPE BASE64 [COMMENT]`), or undefined. */
export function readUserCertificate(file: string): UserCertificate | undefined {
  let text: string;
  try {
    text = readKeyFile(file).toString('utf8');
  } catch {
    return undefined;
  }
  const blob = Buffer.from(text.trim().split(/\s+/)[1] ?? '', 'base64');
  if (blob.length < 4 || !isCertificate(blob)) return undefined;
  try {
    const certificate = parseHostCertificate(blob);
    return certificate.certType === USER_CERTIFICATE ? { file, blob, certificate } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why sshd would refuse this certificate for `user` at `now`, as far as the client can tell (sshd
 * says only "Permission denied"; its log names the check): undefined when it looks good.
 */
export function userCertificateProblem({ certificate }: UserCertificate, user: string, now: Date): string | undefined {
  const seconds = BigInt(Math.floor(now.getTime() / 1000));
  if (seconds < certificate.validAfter) return `is not valid before ${timeOf(certificate.validAfter)}`;
  if (certificate.validBefore !== FOREVER && seconds >= certificate.validBefore) return `expired at ${timeOf(certificate.validBefore)}`;
  // sshd's TrustedUserCAKeys and a cert-authority line without principals="..." take a certificate
  // for the users it names; one naming none is refused.
  if (certificate.principals.length === 0) return `names no principals, and sshd takes a certificate only for the users it names`;
  if (!certificate.principals.includes(user)) return `is for ${certificate.principals.join(', ')}, not ${user} (sshd takes a certificate only for the users its principals name, unless an AuthorizedPrincipalsFile maps them)`;
  return undefined;
}
