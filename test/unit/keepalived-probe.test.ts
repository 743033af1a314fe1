import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pinNextHop } from '../../src/resources/ipvs/next-hop-pin.js';
import { keepalived } from '../../src/resources/keepalived.js';
import { quote } from '../../src/shell/quote.js';

// The keepalived task's read script, run for real in a private network namespace (this machine
// has no IPVS, so the live table is empty and every checked real server is tried): a busybox web
// server on 192.0.2.11:8080 answers, 192.0.2.12 has nothing listening. The director's own try of
// the health check must tell them apart exactly as keepalived's HTTP_GET and TCP_CHECK would.

const root = mkdtempSync(join(tmpdir(), 'lvsprov-kaprobe-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
writeFileSync(join(root, 'health'), 'ok\n');
// A login's ~/.bashrc that takes longer than any check's timeout (pyenv init, say, under emulation).
const home = mkdtempSync(join(tmpdir(), 'lvsprov-kaprobe-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
writeFileSync(join(home, '.bashrc'), 'sleep 5\n');

const spec = (check: Record<string, unknown>) =>
  keepalived.schema.parse({
    path: join(root, 'keepalived.conf'),
    virtual_servers: [
      {
        protocol: 'tcp',
        address: '198.51.100.50',
        port: 8080,
        scheduler: 'rr',
        forwarding: 'nat',
        real_servers: [
          { address: '192.0.2.11', port: 8080, weight: 1 },
          { address: '192.0.2.12', port: 8080, weight: 1 },
        ],
        health_check: { interval: 1, timeout: 1, retries: 1, ...check },
      },
    ],
  });

/**
 * A web server on 192.0.2.12:8080 that drops the first request it is sent (a check that fails
 * by chance) and answers 200 to every later one; connections that send nothing are not counted.
 */
const FLAKY_SERVER = `let requests = 0;
require('node:net').createServer((socket) => socket.once('data', () => {
  if (requests++ === 0) socket.destroy(); else socket.end('HTTP/1.0 200 OK\\r\\n\\r\\nok\\n');
})).listen(8080, '192.0.2.12');`;

/**
 * `over` says how the script reaches the shell: as `sh -c`, or the way lvsprov sends it, on the
 * stdin of `sh -s` under sshd (SSH_CLIENT set, SHLVL 0 as bash leaves it when it execs `sh -s`).
 */
function read(probe: string, over: 'sh -c' | 'sshd' = 'sh -c', flaky = false): { stdout: string; status: number } {
  const script = [
    'ip link set lo up',
    'ip addr add 192.0.2.11/32 dev lo',
    'ip addr add 192.0.2.12/32 dev lo',
    `busybox httpd -f -p 192.0.2.11:8080 -h ${root} & web=$!`,
    ...(flaky ? [`${quote(process.execPath)} -e ${quote(FLAKY_SERVER)} & flaky=$!`] : ['flaky=']),
    'i=0; until bash --norc -c "exec 3<>/dev/tcp/192.0.2.11/8080" 2>/dev/null || [ "$i" -ge 50 ]; do i=$((i+1)); sleep 0.1; done',
    ...(flaky ? ['i=0; until bash --norc -c "exec 3<>/dev/tcp/192.0.2.12/8080" 2>/dev/null || [ "$i" -ge 50 ]; do i=$((i+1)); sleep 0.1; done'] : []),
    `( ${probe} )`,
    'status=$?; kill "$web" $flaky; exit "$status"',
  ].join('\n');
  const result =
    over === 'sh -c'
      ? spawnSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8' })
      : spawnSync('unshare', ['-n', 'sh', '-s'], { input: script, encoding: 'utf8', env: { ...process.env, HOME: home, SSH_CLIENT: '192.0.2.1 50000 22', SHLVL: '0' } });
  return { stdout: result.stdout, status: result.status ?? -1 };
}

describe('the read script tries the health check of real servers missing from the live table', () => {
  it.each([
    ['tcp', { type: 'tcp' }, ['TCP 198.51.100.50:8080 192.0.2.12:8080'], ['TCP 198.51.100.50:8080 192.0.2.11:8080']],
    ['http 200 on /health', { type: 'http', path: '/health', expect_status: 200 }, ['TCP 198.51.100.50:8080 192.0.2.12:8080'], ['TCP 198.51.100.50:8080 192.0.2.11:8080']],
    ['http on a path the server has not (404)', { type: 'http', path: '/missing', expect_status: 200 }, ['TCP 198.51.100.50:8080 192.0.2.11:8080', 'TCP 198.51.100.50:8080 192.0.2.12:8080'], []],
  ])('%s', (_, check, down, answering) => {
    const parsed = spec(check);
    const output = read(keepalived.probe(parsed));
    expect(output.status, output.stdout).toBe(0);
    const facts = keepalived.parse(output, parsed);
    expect([...facts.down].sort()).toEqual(down);
    expect(facts.answering).toEqual(answering);
    expect(facts.file.exists).toBe(false);
    expect(facts.running).toBe(false);
  });
});

describe('run as sshd runs it, the check is not slowed by the login\'s ~/.bashrc', () => {
  // Debian's bash reads ~/.bashrc when it thinks sshd started it (SSH_CLIENT set, a top-level
  // shell), even for `bash -c`: a check that starts bash that way waited for the login's
  // .bashrc and was killed by its own timeout, so every missing real server looked down.
  it('a server that answers is answering, one that does not is down', () => {
    const parsed = spec({ type: 'http', path: '/health', expect_status: 200 });
    const output = read(keepalived.probe(parsed), 'sshd');
    expect(output.status, output.stdout).toBe(0);
    const facts = keepalived.parse(output, parsed);
    expect(facts.answering).toEqual(['TCP 198.51.100.50:8080 192.0.2.11:8080']);
    expect(facts.down).toEqual(['TCP 198.51.100.50:8080 192.0.2.12:8080']);
  });
});

describe('a check that fails once is tried again, as keepalived needs `retries` failures in a row', () => {
  // 192.0.2.12 drops the first request and answers the next: with retries 2 keepalived keeps it
  // in, so it is answering (a hand-deleted server to re-add), not down; with retries 1 it is down.
  it.each([
    [2, ['TCP 198.51.100.50:8080 192.0.2.11:8080', 'TCP 198.51.100.50:8080 192.0.2.12:8080'], []],
    [1, ['TCP 198.51.100.50:8080 192.0.2.11:8080'], ['TCP 198.51.100.50:8080 192.0.2.12:8080']],
  ])('retries %i', (retries, answering, down) => {
    const parsed = spec({ type: 'http', path: '/health', expect_status: 200, retries });
    const output = read(keepalived.probe(parsed), 'sh -c', true);
    expect(output.status, output.stdout).toBe(0);
    const facts = keepalived.parse(output, parsed);
    expect([...facts.answering].sort()).toEqual(answering);
    expect(facts.down).toEqual(down);
  });
});

describe('the read script finds the next-hop pins a stopped forwarding switch left', () => {
  // A run stopped between keepalived's reload that switched a real server's method and its
  // withdraw wave leaves the server's pin: the next run must see it to take it away.
  it('a pin made as a switch makes it is read; a plain route beside it is not', () => {
    const parsed = spec({ type: 'tcp' });
    const output = read([
      'ip link add lan0 type veth peer name lan1', 'ip link set lan0 up', 'ip link set lan1 up', 'ip addr add 192.0.2.10/24 dev lan0',
      pinNextHop('192.0.2.13'),
      'ip route add 198.51.100.0/24 via 192.0.2.1 dev lan0',
      keepalived.probe(parsed),
    ].join('\n'));
    expect(output.status, output.stdout).toBe(0);
    expect(keepalived.parse(output, parsed).pins).toEqual(['192.0.2.13']);
  });
});
