import { createRequire } from 'node:module';
import type { Client } from 'ssh2';

// After a login, OpenSSH's sshd announces every host key it has (`hostkeys-00@openssh.com`, for
// clients that rotate their known_hosts, OpenSSH's UpdateHostKeys). ssh2 answers every such
// announcement, on every connection, with a `hostkeys-prove-00@openssh.com` request: the host
// then signs with each of its keys (a Debian host has three, and the RSA signature costs about
// 1.7 ms of its CPU on the development machine), and ssh2 verifies every signature, to emit a
// `hostkeys` event that lvsprov never listens to. lvsprov checks the host key it was shown
// against known_hosts and records nothing else, so it declines the announcement, as OpenSSH's
// own client does whenever it has nothing to learn from it. Some servers also fail the
// connection on the proof request.
//
// The announcement asks no reply, but it is answered with an SSH_MSG_IGNORE, which sshd drops:
// sshd writes without TCP_NODELAY for a session with no terminal, so its next packet (the
// session channel's confirmation) waits until the client has acknowledged the announcement, and
// a client with nothing to send delays that acknowledgement (Linux by up to 40 ms). Sequential
// logins to one sshd took about 9 ms longer each when the announcement was left unanswered.
//
// ssh2 has no option for this: its client handles the announcement in the GLOBAL_REQUEST
// handler it gives its protocol object in connect(). That handler is replaced here, right after
// connect(), with one that lets every other global request through to ssh2's own.
// test/integration/host-key-proofs.test.ts shows, from a real sshd's log, that no proof is asked.

const ANNOUNCEMENT = 'hostkeys-00@openssh.com';

const SSH_MSG_IGNORE = 2;

interface PacketWriter {
  readonly allocStart: number;
  alloc(length: number): Buffer;
  finalize(packet: Buffer): Buffer;
}

interface Protocol {
  requestFailure(): void;
  readonly _packetRW?: { readonly write?: PacketWriter };
}

type GlobalRequestHandler = (protocol: Protocol, name: string, wantReply: boolean, data: unknown) => void;

type SendPacket = (protocol: Protocol, packet: Buffer) => void;
let sendPacket: SendPacket | undefined;

/** An SSH_MSG_IGNORE with empty data, through ssh2's own packet writer (its cipher and sequence numbers). */
function sendIgnore(protocol: Protocol): void {
  const writer = protocol._packetRW?.write;
  sendPacket ??= (createRequire(import.meta.url)('ssh2/lib/protocol/utils.js') as { sendPacket: SendPacket }).sendPacket;
  if (!writer || typeof sendPacket !== 'function') return;
  const packet = writer.alloc(5);
  packet[writer.allocStart] = SSH_MSG_IGNORE;
  packet.writeUInt32BE(0, writer.allocStart + 1);
  sendPacket(protocol, writer.finalize(packet));
}

interface ClientInternals {
  readonly _protocol?: { _handlers?: { GLOBAL_REQUEST?: GlobalRequestHandler } };
}

/**
 * Decline the host's key announcements on a client whose connect() has been called; false when
 * ssh2's internals are not where this version of it keeps them (the client then proves the keys
 * as ssh2 does by default, which costs time and changes nothing else).
 */
export function declineHostKeyProofs(client: Client): boolean {
  const handlers = (client as unknown as ClientInternals)._protocol?._handlers;
  const ssh2Handler = handlers?.GLOBAL_REQUEST;
  if (!handlers || typeof ssh2Handler !== 'function') return false;
  handlers.GLOBAL_REQUEST = (protocol, name, wantReply, data) => {
    if (name !== ANNOUNCEMENT) return ssh2Handler(protocol, name, wantReply, data);
    // A server that asked a reply is told no, as for any request a client does not know.
    if (wantReply) protocol.requestFailure();
    else sendIgnore(protocol);
  };
  return true;
}
