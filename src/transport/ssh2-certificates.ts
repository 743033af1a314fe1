import { enableHostCertificates, hostCertificatePatch } from './ssh2-host-certificates.js';
import { loadSsh2Patched } from './ssh2-source-edits.js';
import { enableUserCertificates, userCertificatePatches } from './ssh2-user-certificates.js';

/** Load ssh2 with OpenSSH host and user certificates taught to it where its source allows; ssh2 itself where not. */
export async function loadSsh2WithCertificates<T>(load: () => Promise<T>): Promise<T> {
  const { ssh2, results, libDir } = await loadSsh2Patched(load, [hostCertificatePatch, ...userCertificatePatches]);
  const [host, ...user] = results;
  if (host) enableHostCertificates(host, libDir);
  enableUserCertificates(user);
  return ssh2;
}
