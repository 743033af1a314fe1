import type { BaseAgent, IdentityCallback, ParsedKey } from 'ssh2';
import { readKeyFile } from './key-file.js';
import { readUserCertificate } from './user-certificate.js';

// IdentitiesOnly with an agent: ssh asks the agent to sign for the identity files' own keys (an
// encrypted key loaded with ssh-add is used so) and offers none of the agent's other keys: a host
// that counts failed attempts would refuse after a few, and a key meant for other hosts is not
// shown to this one.

type Ssh2 = typeof import('ssh2');

/** The agent at `socketPath`, listing only the keys of `keyFiles`. */
export function identitiesOnlyAgent(ssh2: Ssh2, socketPath: string, keyFiles: readonly string[]): BaseAgent {
  const allowed = allowedKeys(ssh2, keyFiles);
  return new (class extends ssh2.OpenSSHAgent {
    override getIdentities(cb: IdentityCallback<ParsedKey>): void {
      // The OpenSSH agent lists parsed keys; anything else is not one of the files' keys.
      const listed = (key: unknown): boolean => typeof (key as ParsedKey).getPublicSSH === 'function' && allowed.has((key as ParsedKey).getPublicSSH().toString('base64'));
      super.getIdentities((error, keys) => (error ? cb(error) : cb(undefined, (keys ?? []).filter(listed))));
    }
  })(socketPath);
}

// Every host of a run shares its key files: read and parsed once, not once per connection.
const allowedByFiles = new Map<string, ReadonlySet<string>>();

function allowedKeys(ssh2: Ssh2, keyFiles: readonly string[]): ReadonlySet<string> {
  const cacheKey = keyFiles.join('\0');
  let allowed = allowedByFiles.get(cacheKey);
  if (!allowed) {
    // The certificate beside a key file too, which ssh loads as an identity of its own (ssh.c).
    const certificates = keyFiles.flatMap((file) => readUserCertificate(`${file}-cert.pub`)?.blob.toString('base64') ?? []);
    allowed = new Set([...keyFiles.flatMap((file) => publicBlobOf(ssh2, file) ?? []), ...certificates]);
    allowedByFiles.set(cacheKey, allowed);
  }
  return allowed;
}

/** FILE.pub's key, or the public half of FILE when it can be read without a passphrase, as ssh finds it. */
function publicBlobOf(ssh2: Ssh2, file: string): string | undefined {
  for (const path of [`${file}.pub`, file]) {
    let data: Buffer;
    try {
      data = readKeyFile(path);
    } catch {
      continue;
    }
    const parsed = ssh2.utils.parseKey(data);
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
    if (key && !(key instanceof Error)) return key.getPublicSSH().toString('base64');
  }
  return undefined;
}
