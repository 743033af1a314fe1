import type { UserCertificate } from './user-certificate.js';

// The order keys are offered in, and who signs each, as ssh(1) 9.2 decides them (sshconnect2.c
// pubkey_prepare, then sign_and_send_pubkey): the CertificateFile certificates first; then the
// agent's keys in the agent's order, those an IdentityFile names first (the agent signs for them,
// so an encrypted key loaded with ssh-add needs no passphrase), then its other keys unless
// IdentitiesOnly; then the identity files the agent does not hold, each key followed by its
// KEY-cert.pub. The order matters on a host with a small MaxAuthTries: a key it refuses counts,
// and a user whose agent holds six keys is turned away before the right one is tried.
// A certificate is signed by the first identity in that order that holds its plain key, which may
// be the agent's: a certificate whose private key was only ever loaded with ssh-add is offered
// and the agent signs it. Pure: the caller reads the files and asks the agent.

/** One entry of ssh's list of identity files: a key (public half when readable) or the KEY-cert.pub beside it. */
export interface FileIdentity {
  readonly file: string;
  /** The key's public blob; undefined when neither FILE.pub nor FILE could be read without a passphrase. */
  readonly blob?: Buffer;
  /** Whether this process can sign with FILE (it loaded the private key). */
  readonly loaded: boolean;
  /** Set for the KEY-cert.pub entry that follows its key. */
  readonly certificate?: UserCertificate;
}

export type Signer = { readonly agent: Buffer } | { readonly file: string };

export interface Offer {
  /** What goes to the host: a public key or a certificate. */
  readonly blob: Buffer;
  /** The agent, asked to sign with this blob, or the loaded key file. */
  readonly signer: Signer;
  readonly certificate?: UserCertificate;
  /** For messages: the file, or `agent`. */
  readonly source: string;
}

export interface OfferInput {
  readonly files: readonly FileIdentity[];
  /** CertificateFile's certificates (that exist and are user certificates), in order. */
  readonly certificateFiles: readonly UserCertificate[];
  /** The agent's identities in the order it lists them (none without an agent). */
  readonly agent: readonly Buffer[];
  readonly identitiesOnly: boolean;
}

interface Identity {
  readonly blob: Buffer | undefined;
  readonly file: string | undefined;
  readonly viaAgent: boolean;
  readonly loaded: boolean;
  readonly certificate: UserCertificate | undefined;
}

/** The keys ssh would offer, in its order, each with what signs it; those nothing here can sign are left out. */
export function offerOrder(input: OfferInput): Offer[] {
  const files: Identity[] = input.files.map((entry) => ({ blob: entry.certificate?.blob ?? entry.blob, file: entry.file, viaAgent: false, loaded: entry.loaded, certificate: entry.certificate }));
  const preferred: Identity[] = input.certificateFiles.map((certificate) => ({ blob: certificate.blob, file: certificate.file, viaAgent: false, loaded: false, certificate }));
  const othersOfAgent: Identity[] = [];
  for (const blob of input.agent) {
    const index = files.findIndex((entry) => entry.blob?.equals(blob));
    if (index >= 0) {
      const [found] = files.splice(index, 1);
      preferred.push({ ...found!, viaAgent: true });
    } else if (!input.identitiesOnly) {
      othersOfAgent.push({ blob, file: undefined, viaAgent: true, loaded: false, certificate: undefined });
    }
  }
  const ordered = [...preferred, ...othersOfAgent, ...files];
  return ordered.flatMap((identity): Offer[] => {
    // A file read neither as FILE.pub nor without a passphrase: ssh would ask for one; nothing here can.
    if (!identity.blob) return [];
    const signer = signerOf(identity, ordered);
    if (!signer) return [];
    return [{ blob: identity.blob, signer, ...(identity.certificate ? { certificate: identity.certificate } : {}), source: identity.viaAgent ? 'agent' : (identity.file ?? 'agent') }];
  });
}

function signerOf(identity: Identity, ordered: readonly Identity[]): Signer | undefined {
  if (identity.viaAgent) return { agent: identity.blob! };
  if (identity.certificate) {
    // The first identity holding the certified key as a plain key signs (ssh's sign_id).
    const plain = ordered.find((other) => !other.certificate && other.blob?.equals(identity.certificate!.certificate.key));
    if (plain?.viaAgent) return { agent: plain.blob! };
    return plain?.loaded && plain.file !== undefined ? { file: plain.file } : undefined;
  }
  return identity.loaded && identity.file !== undefined ? { file: identity.file } : undefined;
}
