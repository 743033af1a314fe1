import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CERT_SUFFIX } from './host-certificate.js';
import { editedSource, type PatchResult, type SourceEdit, type SourcePatch } from './ssh2-source-edits.js';

// ssh2 (1.17, the newest release) negotiates plain host keys only: its list of supported host key
// algorithms has no `*-cert-v01@openssh.com` name, so a server never presents its certificate and
// a known_hosts `@cert-authority` line has nothing to vouch for. Four lines of its key exchange
// (lib/protocol/kex.js) stand in the way, all on the client's side of KEXDH_REPLY: the presented
// key's type must equal the negotiated algorithm, the signature's type too, the presented key is
// parsed as a plain key, and the hash of an RSA signature is chosen by the algorithm's name. With a
// certificate the key is `<type>-cert-v01@openssh.com`, the signature is made by the certified
// plain key (`ssh-ed25519`, `rsa-sha2-512`, ...), and that key sits inside the certificate after
// its nonce (OpenSSH's PROTOCOL.certkeys).
//
// This module teaches ssh2 exactly that, before ssh2 first loads: it edits those lines of kex.js
// as Node's CommonJS loader reads the file (ssh2-source-edits.ts), and adds the certificate
// algorithms to ssh2's list of supported ones (one shared array, so the client's option check sees
// them). Everything else, the certificate's CA signature, principals, validity and revocation, is
// checked by lvsprov's own host key verifier (host-certificate.ts), which receives the whole
// certificate. If an edit does not fit (another ssh2 version), kex.js stays as it is and
// `certificateSupport.reason` says why, for the message that refuses a host known only through a CA.

/** The certificate host key algorithms lvsprov offers, most preferred first (no DSA: ssh2 dropped it from its defaults). */
export const certificateHostKeyAlgorithms: readonly string[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
].map((name) => `${name}${CERT_SUFFIX}`);

// The client's and the server's hash choice are the same text: that edit is made twice.
const edits: readonly SourceEdit[] = [
  {
    find: 'if (hostPubKeyType !== this.negotiated.serverHostKey) {',
    replace: 'if (hostPubKeyType !== this.negotiated.serverHostKey && !lvsprovIsCertificateOf(hostPubKeyType, this.negotiated.serverHostKey)) {',
    count: 1,
  },
  {
    find: 'if (sigType !== negotiated.serverHostKey) {',
    replace: 'if (sigType !== lvsprovSignatureAlgorithm(negotiated.serverHostKey)) {',
    count: 1,
  },
  {
    find: 'parsedHostKey = parseDERKey(hostKey, name);',
    replace: 'parsedHostKey = lvsprovParseHostKey(parseDERKey, hostKey, name);',
    count: 1,
  },
  {
    find: "switch (this.negotiated.serverHostKey) {\n          case 'rsa-sha2-256': hashAlgo = 'sha256'; break;",
    replace: "switch (lvsprovSignatureAlgorithm(this.negotiated.serverHostKey)) {\n          case 'rsa-sha2-256': hashAlgo = 'sha256'; break;",
    count: 2,
  },
];

// Appended to kex.js: plain JavaScript in ssh2's own module scope. The functions run during a key
// exchange, long after the module has loaded.
const helpers = `
// Added by lvsprov (src/transport/ssh2-host-certificates.ts): OpenSSH host certificates.
function lvsprovSignatureAlgorithm(name) {
  return name.endsWith('${CERT_SUFFIX}') ? name.slice(0, -${CERT_SUFFIX.length}) : name;
}
function lvsprovIsCertificateOf(keyType, negotiated) {
  if (!negotiated.endsWith('${CERT_SUFFIX}')) return false;
  const plain = lvsprovSignatureAlgorithm(negotiated);
  return keyType === (plain.startsWith('rsa-sha2-') ? 'ssh-rsa' : plain) + '${CERT_SUFFIX}';
}
function lvsprovParseHostKey(parseDERKey, data, name) {
  if (!name.endsWith('${CERT_SUFFIX}')) return parseDERKey(data, name);
  // After the type name: string nonce, then the certified key's fields as in its plain form
  // (ssh-ed25519: the key; ecdsa: curve name and point; ssh-rsa: e and n), then the rest.
  const plain = lvsprovSignatureAlgorithm(name);
  const skip = (offset) => (offset + 4 <= data.length ? offset + 4 + data.readUInt32BE(offset) : Infinity);
  const start = skip(0);
  let end = start;
  for (let field = 0; field < (plain === 'ssh-ed25519' ? 1 : 2); field++) end = skip(end);
  if (end > data.length) return new Error('Malformed host certificate');
  return parseDERKey(data.subarray(start, end), plain);
}
module.exports.lvsprovHostCertificates = true;
`;

export const hostCertificatePatch: SourcePatch = { file: 'protocol/kex.js', edits, helpers, marker: 'lvsprovHostCertificates' };

export type CertificateSupport = PatchResult;

/** Whether the ssh2 this process loaded negotiates host certificates; set by loadSsh2WithCertificates. */
export const certificateSupport: { current: CertificateSupport } = { current: { active: false, reason: 'ssh2 is not loaded yet' } };

/** kex.js with the edits, or why they do not apply to it. */
export const editedKex = (source: string): { text: string } | { reason: string } => editedSource(source, hostCertificatePatch);

/** Once kex.js is edited: the certificate algorithms join ssh2's list of supported ones (one shared array, so the client's option check sees them). */
export function enableHostCertificates(result: PatchResult, libDir: string | undefined): void {
  certificateSupport.current = result;
  if (!result.active || libDir === undefined) return;
  const constants = createRequire(import.meta.url)(join(libDir, 'protocol/constants.js')) as { SUPPORTED_SERVER_HOST_KEY: string[] };
  for (const name of certificateHostKeyAlgorithms) if (!constants.SUPPORTED_SERVER_HOST_KEY.includes(name)) constants.SUPPORTED_SERVER_HOST_KEY.push(name);
}
