import { PassThrough } from 'node:stream';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { declineHostKeyProofs } from '../../src/transport/host-key-proofs.js';

// The real ssh2 client this package pins, connected to a stream that never answers: enough for
// connect() to build the protocol object whose GLOBAL_REQUEST handler is replaced. The real
// sshd's side is in test/integration/host-key-proofs.test.ts.

type Handler = (protocol: { requestFailure(): void }, name: string, wantReply: boolean, data: unknown) => void;

function connectedClient(): { client: ssh2.Client; handler: () => Handler | undefined; setHandler: (handler: Handler) => void } {
  const client = new ssh2.Client();
  client.on('error', () => undefined);
  client.connect({ sock: new PassThrough(), username: 'root' });
  const internals = client as unknown as { _protocol?: { _handlers?: { GLOBAL_REQUEST?: Handler } } };
  return {
    client,
    handler: () => internals._protocol?._handlers?.GLOBAL_REQUEST,
    setHandler: (handler) => {
      if (internals._protocol?._handlers) internals._protocol._handlers.GLOBAL_REQUEST = handler;
    },
  };
}

function failures(handler: Handler | undefined, name: string, wantReply: boolean): number {
  let count = 0;
  handler?.({ requestFailure: () => (count += 1) }, name, wantReply, null);
  return count;
}

describe('declining host key announcements', () => {
  it("finds ssh2's handler in the version this package pins, and replaces it", () => {
    const { client, handler } = connectedClient();
    const ssh2Handler = handler();
    expect(typeof ssh2Handler).toBe('function');
    expect(declineHostKeyProofs(client)).toBe(true);
    expect(handler()).not.toBe(ssh2Handler);
    client.end();
  });

  it('an announcement asks nothing of the host, and is refused only when a reply is wanted', () => {
    const { client, handler } = connectedClient();
    declineHostKeyProofs(client);
    let hostkeys = 0;
    client.on('hostkeys', () => (hostkeys += 1));
    expect(failures(handler(), 'hostkeys-00@openssh.com', false)).toBe(0);
    expect(failures(handler(), 'hostkeys-00@openssh.com', true)).toBe(1);
    expect(hostkeys).toBe(0);
    client.end();
  });

  it('every other global request goes to the handler ssh2 had, as it came', () => {
    const { client, handler, setHandler } = connectedClient();
    const seen: unknown[][] = [];
    setHandler((...args) => void seen.push(args));
    declineHostKeyProofs(client);
    const protocol = { requestFailure: () => undefined };
    handler()?.(protocol, 'keepalive@openssh.com', true, null);
    handler()?.(protocol, 'hostkeys-00@openssh.com', false, []);
    handler()?.(protocol, 'no-more-sessions@openssh.com', false, null);
    expect(seen).toEqual([
      [protocol, 'keepalive@openssh.com', true, null],
      [protocol, 'no-more-sessions@openssh.com', false, null],
    ]);
    client.end();
  });

  it('a client whose connect() was not called is left as it is', () => {
    expect(declineHostKeyProofs(new ssh2.Client())).toBe(false);
  });
});
