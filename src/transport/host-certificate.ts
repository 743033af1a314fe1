import { createPublicKey, verify } from 'node:crypto';
import { blobType, fingerprint, type KnownKey } from './known-hosts.js';

// OpenSSH host certificates (PROTOCOL.certkeys): a host's plain key, signed by a certificate
// authority together with the names it is valid for and a validity window. A host that a
// known_hosts `@cert-authority` line covers is trusted when it presents a certificate that the
// line's CA signed, that is a host certificate, valid now and for the name lvsprov looked up, with
// no critical option, and neither the CA nor the certified key marked @revoked. These are the
// checks ssh(1) makes (sshconnect.c, check_host_cert; sshkey.c, sshkey_cert_check_authority), in
// the same order, so a refusal names the same fault OpenSSH would.

/** What a certificate's key type adds to its plain key's: `ssh-ed25519` -> `ssh-ed25519-cert-v01@openssh.com`. */
export const CERT_SUFFIX = '-cert-v01@openssh.com';
const HOST_CERTIFICATE = 2;
/** A validBefore that never ends. */
export const FOREVER = 0xffff_ffff_ffff_ffffn;

export interface HostCertificate {
  /** The certified plain key in wire format (`ssh-ed25519` and its key, ...): what known_hosts records. */
  readonly key: Buffer;
  readonly serial: bigint;
  /** 1 for a user certificate, 2 for a host certificate. */
  readonly certType: number;
  readonly keyId: string;
  readonly principals: readonly string[];
  /** Seconds since the epoch; validBefore is 2^64-1 for "forever". */
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly criticalOptions: readonly string[];
  /** The CA's public key in wire format. */
  readonly signatureKey: Buffer;
  readonly signatureAlgorithm: string;
  readonly signatureValue: Buffer;
  /** The bytes the CA signed: the whole certificate up to its signature. */
  readonly signed: Buffer;
}

export type CertificateVerdict =
  | { readonly kind: 'trusted'; readonly authority: string }
  /** The CA or the certified key is marked @revoked: the host is refused. */
  | { readonly kind: 'revoked'; readonly reason: string }
  /**
   * Not a certificate to trust (no line trusts its CA, or it fails a check): as ssh(1) does, the
   * certified key is then looked up as a plain key. `key` is absent when the certificate cannot be read.
   */
  | { readonly kind: 'not-trusted'; readonly key?: Buffer; readonly reason: string };

class WireReader {
  private offset = 0;

  constructor(private readonly data: Buffer) {}

  get position(): number {
    return this.offset;
  }

  bytes(): Buffer {
    const length = this.uint32();
    if (this.offset + length > this.data.length) throw new Error('a field runs past the end');
    const value = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  text(): string {
    return this.bytes().toString('utf8');
  }

  uint32(): number {
    if (this.offset + 4 > this.data.length) throw new Error('a field runs past the end');
    const value = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uint64(): bigint {
    if (this.offset + 8 > this.data.length) throw new Error('a field runs past the end');
    const value = this.data.readBigUInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  /** The strings of a field that is itself a list of strings (principals, option names and values). */
  list(): string[] {
    const inner = new WireReader(this.bytes());
    const values: string[] = [];
    while (inner.offset < inner.data.length) values.push(inner.text());
    return values;
  }

  done(): boolean {
    return this.offset === this.data.length;
  }
}

function wireString(value: Buffer | string): Buffer {
  const body = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/** How many wire fields a plain key of this type has after its name. */
function keyFieldCount(type: string): number | undefined {
  if (type === 'ssh-ed25519') return 1;
  if (type === 'ssh-rsa' || /^ecdsa-sha2-nistp(256|384|521)$/.test(type)) return 2;
  return undefined;
}

export function isCertificate(blob: Buffer): boolean {
  try {
    return blobType(blob).endsWith(CERT_SUFFIX);
  } catch {
    return false;
  }
}

/** Parse a certificate in wire format; throws with the reason when it is not one lvsprov can read. */
export function parseHostCertificate(blob: Buffer): HostCertificate {
  const reader = new WireReader(blob);
  const type = reader.text();
  if (!type.endsWith(CERT_SUFFIX)) throw new Error(`${type} is not a certificate type`);
  const keyType = type.slice(0, -CERT_SUFFIX.length);
  const fields = keyFieldCount(keyType);
  if (fields === undefined) throw new Error(`certificates of ${keyType} keys are not supported`);
  reader.bytes(); // nonce
  const keyFields: Buffer[] = [];
  for (let field = 0; field < fields; field++) keyFields.push(reader.bytes());
  const serial = reader.uint64();
  const certType = reader.uint32();
  const keyId = reader.text();
  const principals = reader.list();
  const validAfter = reader.uint64();
  const validBefore = reader.uint64();
  // Critical options are pairs of name and value: every other string is a name.
  const criticalOptions = reader.list().filter((_, index) => index % 2 === 0);
  reader.bytes(); // extensions (none is defined for host certificates)
  reader.bytes(); // reserved
  const signatureKey = reader.bytes();
  const signed = blob.subarray(0, reader.position);
  const signature = new WireReader(reader.bytes());
  if (!reader.done()) throw new Error('bytes follow the signature');
  const signatureAlgorithm = signature.text();
  const signatureValue = signature.bytes();
  return {
    key: Buffer.concat([wireString(keyType), ...keyFields.map(wireString)]),
    serial,
    certType,
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions,
    signatureKey,
    signatureAlgorithm,
    signatureValue,
    signed,
  };
}

/** SSH's mpint without leading zero bytes (it adds one when the high bit is set). */
function unsigned(mpint: Buffer): Buffer {
  let start = 0;
  while (start < mpint.length - 1 && mpint[start] === 0) start++;
  return mpint.subarray(start);
}

/** An unsigned integer padded to the `size` bytes of its curve: ECDSA's r and s in IEEE P1363 form. */
function fixedSize(mpint: Buffer, size: number): Buffer {
  const digits = unsigned(mpint);
  if (digits.length > size) throw new Error('an integer is larger than its curve');
  return Buffer.concat([Buffer.alloc(size - digits.length), digits]);
}

const curves: Record<string, { readonly jwk: string; readonly hash: string; readonly size: number }> = {
  nistp256: { jwk: 'P-256', hash: 'sha256', size: 32 },
  nistp384: { jwk: 'P-384', hash: 'sha384', size: 48 },
  nistp521: { jwk: 'P-521', hash: 'sha512', size: 66 },
};

/** The signature algorithms a CA key of each type may use; ssh-rsa (SHA-1) is not one, as in OpenSSH since 8.2. */
function allowedSignatures(keyType: string): readonly string[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256'];
  return [keyType];
}

/** Whether `value` is a valid signature of `data` by the wire-format public key `keyBlob`. */
function signatureVerifies(keyBlob: Buffer, algorithm: string, value: Buffer, data: Buffer): boolean {
  const reader = new WireReader(keyBlob);
  const type = reader.text();
  if (type === 'ssh-ed25519') {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: reader.bytes().toString('base64url') }, format: 'jwk' });
    return verify(null, data, key, value);
  }
  if (type === 'ssh-rsa') {
    const e = unsigned(reader.bytes()).toString('base64url');
    const n = unsigned(reader.bytes()).toString('base64url');
    const key = createPublicKey({ key: { kty: 'RSA', e, n }, format: 'jwk' });
    return verify(algorithm === 'rsa-sha2-512' ? 'sha512' : 'sha256', data, key, value);
  }
  const curveName = /^ecdsa-sha2-(nistp256|nistp384|nistp521)$/.exec(type)?.[1];
  const curve = curveName === undefined ? undefined : curves[curveName];
  if (!curve || reader.text() !== curveName) throw new Error(`a ${type} key cannot sign certificates`);
  const point = reader.bytes();
  if (point.length !== 1 + 2 * curve.size || point[0] !== 4) throw new Error(`the ${type} key is not an uncompressed point`);
  const key = createPublicKey({
    key: { kty: 'EC', crv: curve.jwk, x: point.subarray(1, 1 + curve.size).toString('base64url'), y: point.subarray(1 + curve.size).toString('base64url') },
    format: 'jwk',
  });
  // SSH's ECDSA signature is two mpints, r and s.
  const rs = new WireReader(value);
  const signature = Buffer.concat([fixedSize(rs.bytes(), curve.size), fixedSize(rs.bytes(), curve.size)]);
  return verify(curve.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

/** A certificate time (seconds since the epoch) as ISO 8601, to the second. */
export function timeOf(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

export interface CertificateContext {
  /** The name looked up in known_hosts (HostKeyAlias or the address): what the principals must name. */
  readonly name: string;
  /** The CA keys of the @cert-authority lines that match the host. */
  readonly authorities: readonly KnownKey[];
  /** Every key recorded for the host, @revoked ones among them. */
  readonly keys: readonly KnownKey[];
  /** Where those came from, for messages. */
  readonly files: string;
  readonly now: Date;
}

/** Check a certificate a host presented, the way ssh(1) does. */
export function checkHostCertificate(blob: Buffer, context: CertificateContext): CertificateVerdict {
  let certificate: HostCertificate;
  try {
    certificate = parseHostCertificate(blob);
  } catch (error) {
    return { kind: 'not-trusted', reason: `the host presented a certificate lvsprov cannot read: ${(error as Error).message}` };
  }
  const ca = fingerprint(certificate.signatureKey);
  const described = `its host certificate (key ${fingerprint(certificate.key)}, id "${certificate.keyId}", serial ${certificate.serial}, signed by CA ${ca})`;
  const revoked = context.keys.filter((key) => key.revoked);
  if (revoked.some((key) => key.blob.equals(certificate.signatureKey))) return { kind: 'revoked', reason: `${described}: the CA key is marked @revoked in ${context.files}` };
  if (revoked.some((key) => key.blob.equals(certificate.key))) return { kind: 'revoked', reason: `${described}: the certified key is marked @revoked in ${context.files}` };
  const refused = (reason: string): CertificateVerdict => ({ kind: 'not-trusted', key: certificate.key, reason });
  if (!context.authorities.some((authority) => !authority.revoked && authority.blob.equals(certificate.signatureKey))) {
    return refused(`${described}: no @cert-authority line for ${context.name} in ${context.files} trusts that CA`);
  }
  if (certificate.certType !== HOST_CERTIFICATE) return refused(`${described} is a user certificate, not a host certificate`);
  const caType = blobType(certificate.signatureKey);
  if (!allowedSignatures(caType).includes(certificate.signatureAlgorithm)) {
    return refused(`${described} is signed with ${certificate.signatureAlgorithm}, which OpenSSH no longer accepts from a ${caType} CA (CASignatureAlgorithms); re-sign it`);
  }
  let verified: boolean;
  try {
    verified = signatureVerifies(certificate.signatureKey, certificate.signatureAlgorithm, certificate.signatureValue, certificate.signed);
  } catch (error) {
    return refused(`${described}: its signature cannot be checked: ${(error as Error).message}`);
  }
  if (!verified) return refused(`${described}: the CA's signature does not verify`);
  const now = BigInt(Math.floor(context.now.getTime() / 1000));
  if (now < certificate.validAfter) return refused(`${described} is not valid before ${timeOf(certificate.validAfter)}`);
  if (certificate.validBefore !== FOREVER && now >= certificate.validBefore) return refused(`${described} expired at ${timeOf(certificate.validBefore)}`);
  // A host certificate without principals is valid for every name, as in OpenSSH.
  if (certificate.principals.length > 0 && !certificate.principals.includes(context.name)) {
    return refused(`${described} is not valid for ${context.name} (its principals: ${certificate.principals.join(', ')})`);
  }
  if (certificate.criticalOptions.length > 0) {
    return refused(`${described} has critical options lvsprov does not know: ${certificate.criticalOptions.join(', ')}`);
  }
  return { kind: 'trusted', authority: ca };
}
