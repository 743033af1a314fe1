import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keepalived } from '../../src/resources/keepalived.js';

// The keepalived task's read script, run for real in a private network namespace (this machine
// has no IPVS, so the live table is empty and every checked real server is tried): a busybox web
// server on 192.0.2.11:8080 answers, 192.0.2.12 has nothing listening. The director's own try of
// the health check must tell them apart exactly as keepalived's HTTP_GET and TCP_CHECK would.

const root = mkdtempSync(join(tmpdir(), 'lvsprov-kaprobe-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
writeFileSync(join(root, 'health'), 'ok\n');

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

function read(probe: string): { stdout: string; status: number } {
  const script = [
    'ip link set lo up',
    'ip addr add 192.0.2.11/32 dev lo',
    'ip addr add 192.0.2.12/32 dev lo',
    `busybox httpd -f -p 192.0.2.11:8080 -h ${root} & web=$!`,
    'i=0; until bash -c "exec 3<>/dev/tcp/192.0.2.11/8080" 2>/dev/null || [ "$i" -ge 50 ]; do i=$((i+1)); sleep 0.1; done',
    `( ${probe} )`,
    'status=$?; kill "$web"; exit "$status"',
  ].join('\n');
  const result = spawnSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8' });
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
