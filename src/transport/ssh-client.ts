import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AuthenticationType, Client, ConnectConfig, ParsedKey } from 'ssh2';
import { ConnectError, ConnectInterruptedError } from '../errors.js';
import { handshakeGate } from './handshake-gate.js';
import { signingWithDecodedKey } from './key-signer.js';
import { isCertificate } from './host-certificate.js';
import { addressToCheck, checkHostIp } from './host-ip-check.js';
import { checkHostKey, type RecordedHostKeys } from './host-key-check.js';
import { declineHostKeyProofs } from './host-key-proofs.js';
import { agentIdentities, agentOffer, listedAgent, publicBlobOf, type AgentOffer } from './offer-agent.js';
import { offerOrder, type FileIdentity } from './offer-order.js';
import { skipPublickeyQuery } from './publickey-query.js';
import { KnownHosts, knownHostsKey, preferredHostKeyAlgorithms } from './known-hosts.js';
import { tcpConnect, watchWhileQueued } from './tcp-connect.js';
import { keepalivePings, watchSilence } from './silence-watch.js';
import { certificateHostKeyAlgorithms, certificateSupport } from './ssh2-host-certificates.js';
import { loadSsh2WithCertificates } from './ssh2-certificates.js';
import type { ConnectOptions, ServerAlive, SshEndpoint } from './types.js';
import { readKeyFile } from './key-file.js';
import { userCertificateSupport } from './ssh2-user-certificates.js';
import { readUserCertificate, userCertificateProblem, type UserCertificate } from './user-certificate.js';
import { certifiedKey } from './ssh2-user-certificates.js';

// One authenticated ssh2 connection with host key checking against known_hosts. Used for both the
// hosts themselves and jump hosts. The TCP connection is made once the host is near the head of
// the handshake gate's queue (HandshakeGate.admit); the SSH handshake then waits for a slot of the
// gate, and its share of the connect timeout starts only then. A connection that still waited
// long for its slot is made again before its handshake (see freshAfterMs).
//
// ssh2 itself (and its crypto) loads on the first connection, while that connection's TCP
// handshake is on the network: a command that connects to nothing never loads it, and one that
// does sends its first packets that much sooner.

export interface ClientTarget extends SshEndpoint {
  readonly label: string;
  /** An already-open stream to the host (through a jump host); otherwise TCP to address:port. */
  readonly sock?: Duplex;
}

/** When this process first tried to connect anywhere (performance.now(): ms since it started). */
export const connectionClock: { firstAttemptMs?: number } = {};

type Ssh2 = typeof import('ssh2');
let ssh2Module: Promise<Ssh2> | undefined;

function loadSsh2(): Promise<Ssh2> {
  // ssh2 is CommonJS: under ESM its exports (Client, utils) hang off the default export.
  ssh2Module ??= loadSsh2WithCertificates(() => import('ssh2')).then((module) => (module as unknown as { default: Ssh2 }).default);
  return ssh2Module;
}

const knownHostsFiles = new Map<string, KnownHosts>();
// An encrypted key costs a bcrypt KDF to open; parse each key once per run, not once per host.
const parsedKeys = new Map<string, ParsedKey>();

function loadPrivateKey(ssh2: Ssh2, label: string, path: string, passphrase: string | undefined): ParsedKey {
  const cacheKey = `${path}\0${passphrase ?? ''}`;
  const cached = parsedKeys.get(cacheKey);
  if (cached) return cached;
  let data: Buffer;
  try {
    data = readKeyFile(path);
  } catch (error) {
    throw new ConnectError(`${label}: cannot read private key ${path}: ${(error as Error).message}`);
  }
  const parsed = ssh2.utils.parseKey(data, passphrase);
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (!key || key instanceof Error) {
    const reason = key instanceof Error ? key.message : 'no key found';
    const hint = /passphrase|decrypt|encrypted/i.test(reason) ? ' (wrong or missing passphrase? see ssh.passphrase_env)' : '';
    throw new ConnectError(`${label}: cannot use private key ${path}: ${reason}${hint}`);
  }
  const signing = signingWithDecodedKey(key);
  parsedKeys.set(cacheKey, signing);
  return signing;
}

function knownHostsFor(file: string): KnownHosts {
  let known = knownHostsFiles.get(file);
  if (!known) {
    known = new KnownHosts(file);
    knownHostsFiles.set(file, known);
  }
  return known;
}

/** Every known_hosts file of an endpoint: the user's (written to) and the global ones (read only). */
function hostKeysOf(target: ClientTarget, { name, port }: { readonly name: string; readonly port: number }): RecordedHostKeys {
  const files = [...target.knownHostsFiles, ...target.globalKnownHostsFiles];
  const found = files.map((file) => knownHostsFor(file).lookup(name, port));
  return {
    keys: found.flatMap((lookup) => lookup.keys),
    authorities: found.flatMap((lookup) => lookup.authorities),
    files: files.join(', '),
    name,
  };
}

/**
 * The host key algorithms to offer: the recorded key types first, so a known key is the one
 * negotiated; when a trusted CA covers the host, its certificate before any plain key, as ssh(1)
 * orders them. Undefined leaves ssh2's defaults.
 */
function hostKeyAlgorithms(recorded: RecordedHostKeys): string[] | { prepend: string[] } | undefined {
  const plain = preferredHostKeyAlgorithms(recorded.keys);
  const trustsCertificates = certificateSupport.current.active && recorded.authorities.some((authority) => !authority.revoked);
  if (!trustsCertificates) return plain;
  return plain ? [...certificateHostKeyAlgorithms, ...plain] : { prepend: [...certificateHostKeyAlgorithms] };
}

export async function openClient(target: ClientTarget, options: ConnectOptions): Promise<Client> {
  const describe = (message: string): ConnectError => new ConnectError(`${target.label} (${target.user}@${target.address}:${target.port}): ${message}`);
  // An interrupt gives up a connection still being made, wherever it is (queued, connecting,
  // in its handshake): the host has run nothing yet, and a connect may otherwise take its whole
  // timeout (up to 600 s) to end.
  const { interrupt } = options;
  const interrupted = (): ConnectInterruptedError => new ConnectInterruptedError(`${target.label}: interrupted while connecting; nothing was run on the host`);
  connectionClock.firstAttemptMs ??= performance.now();
  // The TCP connection is made once the host is near the head of the handshake queue (see
  // HandshakeGate.admit); a channel through a jump host costs its host no process until used.
  const leave = target.sock
    ? () => undefined
    : await handshakeGate.admit(interrupt).catch(() => {
        throw interrupted();
      });
  // Interrupted before, or while it was let in (admit only waits, and checks, when the gate is full).
  if (interrupt?.aborted) {
    leave();
    target.sock?.destroy();
    throw interrupted();
  }
  const began = performance.now();
  // A connect still unanswered after this long (a host that does not answer, a slow network)
  // stops holding the hosts behind it back; its own timeout keeps running.
  const slow = setTimeout(leave, slowConnectMs);
  const admitted = (): void => {
    clearTimeout(slow);
    leave();
  };
  const connecting = target.sock
    ? Promise.resolve({ sock: target.sock, tcpMs: 0 })
    : tcpConnect(target.address, target.port, target.connectTimeoutMs, interrupt).then((sock) => ({ sock, tcpMs: performance.now() - began }));
  // Settled below in every case; this only keeps a refusal from counting as unhandled meanwhile.
  connecting.catch(() => undefined);
  let setup: HandshakeSetup;
  try {
    // Everything local (ssh2, the keys, known_hosts) while the TCP connect is under way; an error
    // here sends no SSH packet.
    setup = handshakeSetup(await loadSsh2(), target, options);
  } catch (error) {
    admitted();
    void connecting.then(({ sock }) => sock.destroy(), () => undefined);
    throw error;
  }
  let connected: { sock: Duplex; tcpMs: number };
  try {
    connected = await connecting;
  } catch (error) {
    admitted();
    throw interrupt?.aborted ? interrupted() : describe((error as Error).message);
  }
  const { sock, tcpMs } = connected;
  const queued = watchWhileQueued(sock);
  const queuedAt = performance.now();
  let current: Duplex = sock;
  return handshakeGate
    .run(async () => {
      admitted();
      queued.stop();
      if (interrupt?.aborted) throw interrupted();
      // What the TCP connect took counts against the timeout; the time queued for the slot does not.
      const readyTimeoutAfter = (connectMs: number): number => Math.max(1, Math.round(target.connectTimeoutMs - connectMs));
      const waited = performance.now() - queuedAt;
      if (target.sock || waited < freshAfterMs) {
        const lost = queued.lost();
        if (lost) throw new HostClosedEarly(lost.message);
        return await handshake({ ...setup.config, sock, readyTimeout: readyTimeoutAfter(tcpMs) }, setup, describe, interrupt);
      }
      // sshd counts its LoginGraceTime (120 s by default, 30 s or less on hardened hosts) from the
      // TCP accept, and ends a connection that has not logged in by then without a word: a reset
      // in the middle of the key exchange or the authentication. A connection that waited this
      // long for its slot (a thousand hosts behind a gate of eight on a loaded machine) is
      // replaced by a fresh one, so that the host's clock starts when the handshake does.
      sock.destroy();
      const began = performance.now();
      current = await tcpConnect(target.address, target.port, target.connectTimeoutMs, interrupt).catch((retryError: unknown) => {
        throw describe(`${(retryError as Error).message} (connecting again after ${Math.round(waited / 1000)} s in the queue for a handshake)`);
      });
      return await handshake({ ...setup.config, sock: current, readyTimeout: readyTimeoutAfter(performance.now() - began) }, setup, describe, interrupt);
    }, interrupt)
    .catch((error: unknown) => {
      // A host that left the queue before its slot came (an interrupt) ends its admission here.
      admitted();
      sock.destroy();
      current.destroy();
      if (interrupt?.aborted) throw interrupted();
      throw error instanceof HostClosedEarly ? describe(error.message) : error;
    });
}

const warnOnStderr = (message: string): void => {
  process.stderr.write(`warning: ${message}\n`);
};

/** A TCP connect unanswered after this long no longer counts against the gate's lookahead (see above). */
export const slowConnectMs = 1_000;

/** A connection that waited at least this long for its handshake slot is made again (see above). */
export const freshAfterMs = 5_000;

/** The host closed the connection before the SSH handshake completed. */
class HostClosedEarly extends Error {
  override name = 'HostClosedEarly';
}

interface HandshakeSetup {
  readonly ssh2: Ssh2;
  readonly config: ConnectConfig;
  /** Why the host key was refused, once hostVerifier has refused it. */
  readonly refusal: () => string | undefined;
  /** Record the host key accepted with --accept-new-host-keys (and under the address, CheckHostIP), once the login succeeded. */
  readonly recordNewKey: () => Promise<void>;
  /** The stream the handshake runs over: its remote address is what CheckHostIP checks. */
  readonly connectedTo: (sock: Duplex) => void;
  /** How long the logged-in connection may be silent (watchSilence). */
  readonly alive: ServerAlive;
  /** What to add when every login was refused: why sshd would refuse the certificates offered. */
  readonly loginFailure: () => string;
}

/**
 * `; lvsprov had no key to offer: ...` when every login was refused and none was tried (an
 * IdentityFile that does not exist, under IdentitiesOnly or with no agent): ssh says `no such
 * identity`; without this the message read as if keys had been tried and refused.
 */
function noKeyOffered(target: ClientTarget): string {
  const agent = target.agentKeys !== undefined ? " (IdentitiesOnly yes: the agent signs only for those files' keys)" : target.agent ? ', and the agent offered none' : ', and no agent';
  return `; lvsprov had no key to offer: no identity file it could open${agent}`;
}

/** `; the user certificate FILE expired at ...` for each certificate offered that sshd would refuse. */
function certificateRefusals(certificates: readonly UserCertificate[], target: ClientTarget): string {
  const now = new Date();
  return certificates.flatMap((found) => {
    const problem = userCertificateProblem(found, target.user, now);
    return problem === undefined ? [] : [`; the user certificate ${found.file} ${problem}`];
  }).join('');
}

interface LoginMethods {
  /** ssh2's methods, in the order ssh offers the keys: a key file each, the agent's keys in runs. */
  readonly queue: AuthenticationType[];
  /** The certificates among them, for the message when every login fails. */
  readonly certificates: readonly UserCertificate[];
}

/**
 * The keys to offer in ssh's order (offer-order.ts), as ssh2 methods: a loaded key file signs
 * itself (a certificate through the key it certifies), a run of the agent's keys goes through one
 * agent listing just them.
 */
function loginMethods(ssh2: Ssh2, target: ClientTarget, loaded: ReadonlyMap<string, ParsedKey>, listing: readonly ParsedKey[]): LoginMethods {
  const certificatesOn = userCertificateSupport.current.active;
  // IdentitiesOnly's files (agentKeys) are identity files too, whether or not this process loaded them.
  const identityFiles = [...new Set([...target.privateKeys, ...(target.agentKeys ?? [])])];
  const files: FileIdentity[] = identityFiles.flatMap((file) => {
    const key = loaded.get(file);
    const blob = key?.getPublicSSH() ?? publicBlobOf(ssh2, file);
    const entry: FileIdentity = { file, loaded: key !== undefined, ...(blob ? { blob } : {}) };
    // Any CertificateFile, even one whose files are all missing, stops ssh looking beside the keys.
    const beside = certificatesOn && target.certificateFiles === undefined ? readUserCertificate(`${file}-cert.pub`) : undefined;
    return beside ? [entry, { file, loaded: key !== undefined, certificate: beside }] : [entry];
  });
  const certificateFiles = certificatesOn ? (target.certificateFiles ?? []).flatMap((file) => readUserCertificate(file) ?? []) : [];
  // Without the certificate edits in ssh2, an agent's certificate cannot be sent either.
  const agent = listing.map((key) => key.getPublicSSH()).filter((blob) => certificatesOn || !isCertificate(blob));
  const offers = offerOrder({ files, certificateFiles, agent, identitiesOnly: target.agentKeys !== undefined });
  const queue: AuthenticationType[] = [];
  let run: AgentOffer[] = [];
  const endRun = (): void => {
    if (run.length > 0 && target.agent) queue.push({ type: 'agent', username: target.user, agent: listedAgent(ssh2, target.agent, run) } as unknown as AuthenticationType);
    run = [];
  };
  for (const offer of offers) {
    if ('agent' in offer.signer) {
      const found = agentOffer(listing, offer.blob, offer.signer.agent);
      if (found) run.push(found);
      continue;
    }
    endRun();
    const key = loaded.get(offer.signer.file);
    if (key) queue.push({ type: 'publickey', username: target.user, key: offer.certificate ? certifiedKey(key, offer.blob) : key } as unknown as AuthenticationType);
  }
  endRun();
  return { queue, certificates: offers.flatMap((offer) => offer.certificate ?? []) };
}

function handshakeSetup(ssh2: Ssh2, target: ClientTarget, options: ConnectOptions): HandshakeSetup {
  // The name is also what a certificate's principals are compared with.
  const entry = knownHostsKey(target.address, target.port, target.hostKeyAlias);
  const recorded = hostKeysOf(target, entry);
  const userFile = target.knownHostsFiles[0];
  const acceptNew = (options.acceptNewHostKeys || target.acceptNewHostKeys === true) && userFile !== undefined;
  let refusal: string | undefined;
  let newKey: Buffer | undefined;
  // CheckHostIP: the address the TCP connection reached (set once it is known), and a key to record under it.
  let remoteAddress: string | undefined;
  let newAddressKey: { readonly address: string; readonly key: Buffer } | undefined;

  // An encrypted key without a passphrase is passed over when something else can be tried (the
  // agent, which may hold it after ssh-add, or another key file), as ssh(1) does without a
  // terminal to ask on; when nothing else is left its error stands, naming the key.
  const unusable: Error[] = [];
  const loaded = new Map<string, ParsedKey>();
  for (const file of target.privateKeys) {
    try {
      loaded.set(file, loadPrivateKey(ssh2, target.label, file, target.passphrase));
    } catch (error) {
      // A default file no one named (an old key in a format ssh2 cannot read) is passed over too,
      // as ssh does ("Load key ...: invalid format") before it tries the next.
      if ((target.passphrase === undefined && /no passphrase given/.test((error as Error).message)) || target.defaultKeyFiles === true) {
        unusable.push(error as Error);
        continue;
      }
      throw error;
    }
  }
  if (loaded.size === 0 && !target.agent && unusable[0]) throw unusable[0];
  // What the agent holds is asked while the TCP connection is made; the order of the keys waits for it.
  const agentListing = target.agent ? agentIdentities(ssh2, target.agent) : Promise.resolve([]);
  const plan = agentListing.then((listing) => loginMethods(ssh2, target, loaded, listing));
  plan.catch(() => undefined);
  let offeredCertificates: readonly UserCertificate[] = [];
  let offered = 0;
  const authHandler = (_left: unknown, _partial: unknown, next: (method: AuthenticationType | false) => void): undefined => {
    plan.then(
      (methods) => {
        offeredCertificates = methods.certificates;
        const method = methods.queue.shift();
        if (method) offered += 1;
        next(method ?? false);
      },
      () => next(false),
    );
    return undefined;
  };
  const algorithms = hostKeyAlgorithms(recorded);
  const config: ConnectConfig = {
    host: target.address,
    port: target.port,
    username: target.user,
    // A host that stops answering is given up (see serverAliveDefaults and watchSilence); a script
    // that runs long (a drain, a lock wait) is fine as long as the host answers the keepalives.
    ...keepalivePings(target.serverAlive),
    authHandler: authHandler as never,
    ...(algorithms ? { algorithms: { serverHostKey: algorithms as never } } : {}),
    ...(options.traceSsh ? { debug: (message: string) => options.traceSsh?.(target.label, message) } : {}),
    hostVerifier: (blob: Buffer) => {
      const decision = checkHostKey(blob, recorded, { acceptNew, certificates: certificateSupport.current, now: new Date() });
      if (!decision.accept) {
        refusal = decision.reason;
        return false;
      }
      // ssh checks the address for a plain key only, never for a certificate (sshconnect.c).
      const address = target.checkHostIp === true && !isCertificate(blob) ? addressToCheck(target.address, remoteAddress) : undefined;
      if (address !== undefined) {
        const byAddress = hostKeysOf(target, knownHostsKey(address, target.port));
        const verdict = checkHostIp(blob, byAddress.keys, { name: recorded.name, address, files: byAddress.files, ...(target.strictHostKeyChecking ? { strict: target.strictHostKeyChecking } : {}) });
        if (!verdict.accept) {
          refusal = verdict.reason;
          return false;
        }
        if (verdict.warning !== undefined) (options.warn ?? warnOnStderr)(`${target.label}: ${verdict.warning}`);
        if (verdict.record) newAddressKey = { address, key: blob };
      }
      newKey = decision.record;
      return true;
    },
  };

  const recordNewKey = async (): Promise<void> => {
    if (!userFile) return;
    const hashed = target.hashKnownHosts === true;
    if (newKey) await knownHostsFor(userFile).add(entry.name, entry.port, newKey, hashed);
    if (newAddressKey) await knownHostsFor(userFile).add(newAddressKey.address, target.port, newAddressKey.key, hashed);
  };
  const connectedTo = (sock: Duplex): void => {
    remoteAddress = (sock as Partial<Socket>).remoteAddress;
  };
  return { ssh2, config, refusal: () => refusal, recordNewKey, connectedTo, alive: target.serverAlive, loginFailure: () => (offered === 0 ? noKeyOffered(target) : '') + certificateRefusals(offeredCertificates, target) };
}

/** The SSH exchange itself, over a connected stream; ssh2's readyTimeout starts in connect(). */
function handshake(config: ConnectConfig, setup: HandshakeSetup, describe: (message: string) => ConnectError, interrupt?: AbortSignal): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new setup.ssh2.Client();
    const stop = (): void => {
      (config.sock as Duplex).destroy();
      fail(new HostClosedEarly('interrupted during the SSH handshake'));
    };
    const fail = (error: Error): void => {
      interrupt?.removeEventListener('abort', stop);
      // ssh2 may emit a second error while closing (after a handshake timeout: "Connection lost
      // before handshake"); with no listener left, that would crash the whole run.
      client.on('error', () => undefined);
      client.removeListener('close', closed);
      client.end();
      const refused = /authentication methods failed/i.test(error.message) ? setup.loginFailure() : '';
      reject(error instanceof HostClosedEarly ? error : describe(setup.refusal() ?? `${error.message}${refused}`));
    };
    // A host that closes after sending its banner (sshd's LoginGraceTime, a connection limit, a
    // firewall) makes ssh2 emit only 'close', no error, and clear its own timeout: without this,
    // the handshake would never settle and its gate slot would never free.
    const closed = (): void => fail(new HostClosedEarly('the host closed the connection during the SSH handshake'));
    client.once('ready', () => {
      interrupt?.removeEventListener('abort', stop);
      client.removeListener('error', fail);
      client.removeListener('close', closed);
      client.on('error', () => undefined);
      watchSilence(client, config.sock as Duplex, setup.alive);
      setup.recordNewKey().then(() => resolve(client), fail);
    });
    client.once('close', closed);
    client.once('error', fail);
    interrupt?.addEventListener('abort', stop, { once: true });
    if (interrupt?.aborted) {
      stop();
      return;
    }
    try {
      setup.connectedTo(config.sock as Duplex);
      client.connect(config);
      declineHostKeyProofs(client);
      skipPublickeyQuery(client);
    } catch (error) {
      fail(error as Error);
    }
  });
}
