import type { ParsedKey } from 'ssh2';
import { FOREVER, isCertificate, parseHostCertificate, timeOf, type HostCertificate } from './host-certificate.js';
import { readKeyFile } from './key-file.js';
import { certifiedKey } from './ssh2-user-certificates.js';

// OpenSSH user certificates on the client's side, chosen as ssh(1) 9.2 chooses them
// (ssh.c load_public_identity_files, sshconnect2.c pubkey_prepare and sign_and_send_pubkey):
// the CertificateFile certificates first, each signed by the loaded key it certifies; without any
// CertificateFile, each key file's KEY-cert.pub right after the key itself. A file that is missing,
// not a certificate, or a host certificate is passed over, as ssh passes it over.

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

export interface KeyFile {
  readonly file: string;
  readonly key: ParsedKey;
}

export interface CertificateLogins {
  /** The keys to offer, in order: certified keys among the plain ones. */
  readonly keys: readonly ParsedKey[];
  /** The certificates among them, for the message when every login fails. */
  readonly certificates: readonly UserCertificate[];
}

/** `keyFiles` with the certificates ssh would send, in ssh's order (see above). */
export function certificateLogins(keyFiles: readonly KeyFile[], certificateFiles: readonly string[] | undefined): CertificateLogins {
  const certificates: UserCertificate[] = [];
  const keys: ParsedKey[] = [];
  const signer = (found: UserCertificate): ParsedKey | undefined => keyFiles.find(({ key }) => key.getPublicSSH().equals(found.certificate.key))?.key;
  const add = (found: UserCertificate | undefined): void => {
    const key = found && signer(found);
    if (!found || !key) return;
    certificates.push(found);
    keys.push(certifiedKey(key, found.blob));
  };
  // Any CertificateFile, even one whose files are all missing, stops ssh looking beside the keys.
  const explicit = certificateFiles !== undefined;
  for (const file of certificateFiles ?? []) add(readUserCertificate(file));
  for (const keyFile of keyFiles) {
    keys.push(keyFile.key);
    if (!explicit) add(readUserCertificate(`${keyFile.file}-cert.pub`));
  }
  return { keys, certificates };
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
