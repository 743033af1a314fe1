import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CERT_SUFFIX } from './host-certificate.js';

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
// as Node's CommonJS loader reads the file, and adds the certificate algorithms to ssh2's list of
// supported ones (one shared array, so the client's option check sees them). Everything else, the
// certificate's CA signature, principals, validity and revocation, is checked by lvsprov's own
// host key verifier (host-certificate.ts), which receives the whole certificate. Each edit must
// match its line exactly as often as expected; if any does not (another ssh2 version), nothing is
// edited, ssh2 stays as it is, and `certificateSupport.reason` says why, for the message that
// refuses a host known only through a CA.


/** The certificate host key algorithms lvsprov offers, most preferred first (no DSA: ssh2 dropped it from its defaults). */
export const certificateHostKeyAlgorithms: readonly string[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
].map((name) => `${name}${CERT_SUFFIX}`);

interface Edit {
  readonly find: string;
  readonly replace: string;
  /** How many times `find` occurs in kex.js (the client's and the server's hash choice are the same text). */
  readonly count: number;
}

const edits: readonly Edit[] = [
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

export interface CertificateSupport {
  readonly active: boolean;
  /** Why certificates cannot be negotiated, when they cannot. */
  readonly reason?: string;
}

/** Whether the ssh2 this process loaded negotiates host certificates; set by loadSsh2WithCertificates. */
export const certificateSupport: { current: CertificateSupport } = { current: { active: false, reason: 'ssh2 is not loaded yet' } };

/** kex.js with the edits, or why they do not apply to it. */
export function editedKex(source: string): { text: string } | { reason: string } {
  let text = source;
  for (const edit of edits) {
    const found = text.split(edit.find).length - 1;
    if (found !== edit.count) return { reason: `its kex.js holds \`${edit.find.split('\n')[0]}\` ${found} times, not ${edit.count}` };
    text = text.split(edit.find).join(edit.replace);
  }
  return { text: `${text}\n${helpers}` };
}

type CompileJs = (module: { _compile(code: string, filename: string): unknown }, filename: string) => unknown;

/** Load ssh2 with host certificates taught to it when its source allows; ssh2 itself when not. */
export async function loadSsh2WithCertificates<T>(load: () => Promise<T>): Promise<T> {
  const require = createRequire(import.meta.url);
  let protocolDir: string;
  let version: string;
  try {
    const packageJson = require.resolve('ssh2/package.json');
    protocolDir = join(dirname(packageJson), 'lib/protocol');
    version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
  } catch (error) {
    certificateSupport.current = { active: false, reason: `ssh2's files cannot be read: ${(error as Error).message}` };
    return load();
  }
  const kexPath = join(protocolDir, 'kex.js');
  const edited = editedKex(readFileSync(kexPath, 'utf8'));
  if ('reason' in edited) {
    certificateSupport.current = { active: false, reason: `ssh2 ${version} is not the ssh2 lvsprov knows how to extend: ${edited.reason}` };
    return load();
  }
  // Node's CommonJS loader compiles each .js file through this table; ssh2's own require of
  // ./kex.js comes through here once, while ssh2 loads, and gets the edited text.
  const extensions = (require('node:module') as { _extensions: Record<string, CompileJs> })._extensions;
  const compileJs = extensions['.js'] as CompileJs;
  extensions['.js'] = (module, filename) => (filename === kexPath ? module._compile(edited.text, filename) : compileJs(module, filename));
  let ssh2: T;
  try {
    ssh2 = await load();
  } finally {
    extensions['.js'] = compileJs;
  }
  const kex = require.cache[kexPath]?.exports as { lvsprovHostCertificates?: boolean } | undefined;
  if (kex?.lvsprovHostCertificates !== true) {
    certificateSupport.current = { active: false, reason: `ssh2 ${version}'s kex.js was loaded before lvsprov could extend it` };
    return ssh2;
  }
  const constants = require(join(protocolDir, 'constants.js')) as { SUPPORTED_SERVER_HOST_KEY: string[] };
  for (const name of certificateHostKeyAlgorithms) if (!constants.SUPPORTED_SERVER_HOST_KEY.includes(name)) constants.SUPPORTED_SERVER_HOST_KEY.push(name);
  certificateSupport.current = { active: true };
  return ssh2;
}
