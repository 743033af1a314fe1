import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// lvsprov's SSH connections run with TCP_NODELAY (tcp-connect.ts says why). Node keeps no flag
// to read it back, so a node process connects to a server of its own on loopback under
// `strace -e setsockopt`, and the system call is what is checked.

const tcpConnect = fileURLToPath(new URL('../../dist/transport/tcp-connect.js', import.meta.url));
const program = `
import { createServer } from 'node:net';
import { tcpConnect } from ${JSON.stringify(tcpConnect)};
const server = createServer((socket) => socket.end());
server.listen(0, '127.0.0.1', async () => {
  const socket = await tcpConnect('127.0.0.1', server.address().port, 5000);
  socket.destroy();
  server.close();
});`;

describe('the TCP connection of an SSH login', () => {
  it('turns off Nagle (TCP_NODELAY) on the socket tcpConnect returns', () => {
    const result = spawnSync('strace', ['-f', '-qq', '-e', 'trace=setsockopt', process.execPath, '--input-type=module', '-e', program], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/setsockopt\(\d+, SOL_TCP, TCP_NODELAY, \[1\], 4\) = 0/);
  });

  it('names the address it tried and not the unbound local side when the network is unreachable', () => {
    // A network namespace of its own, with only its loopback (down): no route anywhere.
    const script = `import { tcpConnect } from ${JSON.stringify(tcpConnect)};
tcpConnect('198.51.100.9', 22, 5000).then(() => process.exit(1), (error) => console.log(error.message));`;
    const result = spawnSync('unshare', ['--net', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe('connect ENETUNREACH 198.51.100.9:22');
  });
});
