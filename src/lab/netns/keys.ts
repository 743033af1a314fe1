import { readFile, rm } from 'node:fs/promises';
import { runChecked } from './process.js';
import { publicKeyBody } from './ssh-files.js';

/**
 * A fresh ed25519 pair at `path` and `path.pub`, made by ssh-keygen itself so the files are
 * exactly what OpenSSH expects. Returns the public key as `type blob`.
 */
export async function generateKeyPair(path: string, comment: string): Promise<string> {
  // ssh-keygen asks before overwriting; a replaced key is the point when this is called twice.
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
  await runChecked(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  return publicKeyBody(await readFile(`${path}.pub`, 'utf8'));
}
