import type { BaseAgent, ParsedKey, SigningRequestOptions } from 'ssh2';
import { readKeyFile } from './key-file.js';
import { certifiedKey } from './ssh2-user-certificates.js';

// The agent's side of a login in ssh's order (offer-order.ts): what the agent holds, read once per
// connection as ssh reads it, and an agent for ssh2 that lists exactly the keys to offer at one
// point of that order and has the real agent sign each, a certificate the agent does not hold
// with the plain key it does.

type Ssh2 = typeof import('ssh2');
type SignCallback = (error?: Error | null, signature?: Buffer) => void;

/** The agent's keys in its order (a certificate as its certified key with the certificate as public blob); none when it cannot be asked, as ssh goes on without it. */
export function agentIdentities(ssh2: Ssh2, socketPath: string): Promise<ParsedKey[]> {
  return new Promise((resolve) => {
    new ssh2.OpenSSHAgent(socketPath).getIdentities((error, keys) => resolve(error ? [] : ((keys ?? []) as ParsedKey[]).filter((key) => typeof key.getPublicSSH === 'function')));
  });
}

export interface AgentOffer {
  /** What the host is offered: the agent's key, or a certificate of one. */
  readonly offered: ParsedKey;
  /** The key the agent is asked to sign with. */
  readonly signWith: ParsedKey;
}

/** The agent offer of `blob` (signed by the agent's `signerBlob`), from the agent's listing; undefined when the agent does not hold it. */
export function agentOffer(listing: readonly ParsedKey[], blob: Buffer, signerBlob: Buffer): AgentOffer | undefined {
  const signWith = listing.find((key) => key.getPublicSSH().equals(signerBlob));
  if (!signWith) return undefined;
  return { offered: blob.equals(signerBlob) ? signWith : certifiedKey(signWith, blob), signWith };
}

/** An agent for ssh2 that lists `offers` in order and has the agent at `socketPath` sign for them. */
export function listedAgent(ssh2: Ssh2, socketPath: string, offers: readonly AgentOffer[]): BaseAgent {
  const real = new ssh2.OpenSSHAgent(socketPath);
  return new (class extends ssh2.BaseAgent {
    override getIdentities(cb: (error: Error | undefined, keys?: ParsedKey[]) => void): void {
      cb(undefined, offers.map(({ offered }) => offered));
    }
    override sign(pubKey: ParsedKey, data: Buffer, options: SigningRequestOptions | SignCallback, cb?: SignCallback): void {
      const done = (typeof options === 'function' ? options : cb) as SignCallback;
      const found = offers.find(({ offered }) => offered.getPublicSSH().equals(pubKey.getPublicSSH()));
      if (!found) return done(new Error('the agent was asked to sign for a key it was not listed with'));
      real.sign(found.signWith, data, typeof options === 'function' ? {} : options, done as never);
    }
  })();
}

/** FILE.pub's key, or the public half of FILE when it can be read without a passphrase, as ssh finds it. */
export function publicBlobOf(ssh2: Ssh2, file: string): Buffer | undefined {
  for (const path of [`${file}.pub`, file]) {
    let data: Buffer;
    try {
      data = readKeyFile(path);
    } catch {
      continue;
    }
    const parsed = ssh2.utils.parseKey(data);
    const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
    if (key && !(key instanceof Error)) return key.getPublicSSH();
  }
  return undefined;
}
