import type { ParsedKey } from 'ssh2';
import { CERT_SUFFIX } from './host-certificate.js';
import type { PatchResult, SourcePatch } from './ssh2-source-edits.js';

// ssh2 1.17 cannot log in with an OpenSSH user certificate. A certificate login (PROTOCOL.certkeys)
// sends the certificate where the public key goes, under the certificate's algorithm
// (`ssh-ed25519-cert-v01@openssh.com`, `rsa-sha2-512-cert-v01@openssh.com`), and signs it with the
// plain key, the signature naming the plain algorithm (`ssh-ed25519`, `rsa-sha2-512`), which is what
// sshd checks it against. ssh2's Protocol.authPK writes one algorithm name in both places, and its
// agent client drops every identity of a type it does not parse, certificates included.
//
// Two edits make it, as ssh2-source-edits.ts applies them while ssh2 loads. In authPK, a public key
// blob that is a certificate (certifiedKey below hands one over) is sent under the certificate's
// algorithm, and the signature keeps the plain one; every other key is sent as before. In the
// agent client, a certificate the agent lists becomes the certified plain key (so ssh2 signs and
// picks RSA hashes as for the plain key) whose public blob is the certificate, which the agent then
// signs for as ssh-agent does for `ssh` itself.

// authPK's lines from the default algorithm to the packet's size: the edit adds the signature's
// algorithm (the plain one, kept) and turns the request's into the certificate's for a certificate.
const authPKHead = [
  '    if (!keyAlgo)',
  '      keyAlgo = keyType;',
  '',
  '    const userLen = Buffer.byteLength(username);',
  '    const algoLen = Buffer.byteLength(keyAlgo);',
  '    const pubKeyLen = pubKey.length;',
  '    const sessionID = this._kex.sessionID;',
  '    const sesLen = sessionID.length;',
  '    const payloadLen =',
];
const certificateAlgorithm = [
  '    const sigAlgo = keyAlgo;',
  '    const sigAlgoLen = Buffer.byteLength(sigAlgo);',
  '    if (lvsprovIsCertificate(pubKey))',
  '      keyAlgo = lvsprovCertificateAlgorithm(keyAlgo);',
];

const protocolEdits = [
  {
    find: authPKHead.join('\n'),
    replace: [...authPKHead.slice(0, 2), ...certificateAlgorithm, ...authPKHead.slice(2)].join('\n'),
    count: 1,
  },
  {
    find: '4 + pubKeyLen + 4\n          + 4 + algoLen + 4 + sigLen',
    replace: '4 + pubKeyLen + 4\n          + 4 + sigAlgoLen + 4 + sigLen',
    count: 1,
  },
  {
    find: [
      '      writeUInt32BE(packet, 4 + algoLen + 4 + sigLen, p += pubKeyLen);',
      '',
      '      writeUInt32BE(packet, algoLen, p += 4);',
      '      packet.utf8Write(keyAlgo, p += 4, algoLen);',
      '',
      '      writeUInt32BE(packet, sigLen, p += algoLen);',
    ].join('\n'),
    replace: [
      '      writeUInt32BE(packet, 4 + sigAlgoLen + 4 + sigLen, p += pubKeyLen);',
      '',
      '      writeUInt32BE(packet, sigAlgoLen, p += 4);',
      '      packet.utf8Write(sigAlgo, p += 4, sigAlgoLen);',
      '',
      '      writeUInt32BE(packet, sigLen, p += sigAlgoLen);',
    ].join('\n'),
    count: 1,
  },
];

/** The type name a wire-format key blob starts with, in the JavaScript both patched files share. */
const blobTypeJs = `function lvsprovBlobType(blob) {
  if (!Buffer.isBuffer(blob) || blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  return 4 + length <= blob.length ? blob.latin1Slice(4, 4 + length) : undefined;
}`;

const protocolHelpers = `
// Added by lvsprov (src/transport/ssh2-user-certificates.ts): OpenSSH user certificates.
${blobTypeJs}
function lvsprovIsCertificate(blob) {
  const type = lvsprovBlobType(blob);
  return type !== undefined && type.endsWith('${CERT_SUFFIX}');
}
function lvsprovCertificateAlgorithm(signatureAlgorithm) {
  return signatureAlgorithm + '${CERT_SUFFIX}';
}
module.exports.lvsprovUserCertificates = true;
`;

const agentEdits = [
  {
    find: '                pubKey = parseKey(pubKey);\n                // We continue parsing',
    replace: '                pubKey = lvsprovParseIdentity(parseKey, pubKey);\n                // We continue parsing',
    count: 1,
  },
];

// A certificate's fields after its type name: a nonce, then the certified key's own fields
// (ssh-ed25519: the key; ecdsa: curve name and point; ssh-rsa: e and n), then the rest.
const agentHelpers = `
// Added by lvsprov (src/transport/ssh2-user-certificates.ts): certificates an agent holds.
${blobTypeJs}
function lvsprovParseIdentity(parseKey, blob) {
  const type = lvsprovBlobType(blob);
  if (type === undefined || !type.endsWith('${CERT_SUFFIX}')) return parseKey(blob);
  const plainType = type.slice(0, -${CERT_SUFFIX.length});
  const fields = plainType === 'ssh-ed25519' ? 1 : plainType === 'ssh-rsa' || plainType.startsWith('ecdsa-sha2-') ? 2 : 0;
  if (fields === 0) return new Error('Unsupported certificate type: ' + type);
  const skip = (offset) => (offset + 4 <= blob.length ? offset + 4 + blob.readUInt32BE(offset) : Infinity);
  const start = skip(skip(0));
  let end = start;
  for (let field = 0; field < fields; field++) end = skip(end);
  if (end > blob.length) return new Error('Malformed certificate');
  const name = Buffer.from(plainType);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(name.length);
  const plain = parseKey(Buffer.concat([length, name, blob.subarray(start, end)]));
  if (plain instanceof Error) return plain;
  return Object.create(plain, { getPublicSSH: { value: () => blob } });
}
module.exports.lvsprovAgentCertificates = true;
`;

export const userCertificatePatches: readonly SourcePatch[] = [
  { file: 'protocol/Protocol.js', edits: protocolEdits, helpers: protocolHelpers, marker: 'lvsprovUserCertificates' },
  { file: 'agent.js', edits: agentEdits, helpers: agentHelpers, marker: 'lvsprovAgentCertificates' },
];

/** Whether the ssh2 this process loaded logs in with user certificates; set by loadSsh2WithCertificates. */
export const userCertificateSupport: { current: PatchResult } = { current: { active: false, reason: 'ssh2 is not loaded yet' } };

/** The results of userCertificatePatches, in order: active when both edits are in force, else the first reason one is not. */
export function enableUserCertificates(results: readonly PatchResult[]): void {
  const missing = results.length < userCertificatePatches.length ? { active: false, reason: 'ssh2 was loaded without them' } : undefined;
  userCertificateSupport.current = missing ?? results.find((result) => !result.active) ?? { active: true };
}

/**
 * `key` (a parsed private key) logging in with `certificate` (its wire-format blob): the key in
 * every respect, its type and signatures included, except the public blob it sends.
 */
export function certifiedKey(key: ParsedKey, certificate: Buffer): ParsedKey {
  return Object.create(key, { getPublicSSH: { value: () => certificate } }) as ParsedKey;
}
