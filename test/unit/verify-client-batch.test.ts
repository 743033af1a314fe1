import { spawn } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeFailure, parseClientOutput, type ClientOutput } from '../../src/verify/client-output.js';
import { clientScript } from '../../src/verify/client-script.js';

// The client script run by this machine's sh, curl and awk against web servers in this process:
// one curl per service (the batch) must read every request as the loop of one curl per request
// does, and say what only it can meet (a server that keeps a connection open after
// `Connection: close`, so a request is not a new connection).

const servers: net.Server[] = [];
const pages = [
  '<!doctype html>\n<html>\n<body>\n<h1>rs1</h1>\n<p>served by rs1 (192.0.2.11)</p>\n</body>\n</html>\n',
  '<h1>web-2.example_x</h1>',
  '',
  '<html>no heading</html>',
  '<h1></h1>',
  '<h1>rs1; reboot</h1>',
  '<h1>$(id)</h1>',
  '<h1>rs1</h2> and later </h1>',
  '<h1>a*</h1>',
  '<h1>\nrs1\n</h1>',
  'no newline at the end <h1>rs2</h1>',
  '<h1>rs1</h1><h1>rs2</h1>',
];
const names = ['rs1', 'web-2.example_x', undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, 'rs2', 'rs1'];
const urls: Record<'named' | 'failing' | 'kept' | 'silent', string> = { named: '', failing: '', kept: '', silent: '' };

async function listen(server: net.Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

let served = 0;

beforeAll(async () => {
  urls.named = await listen(http.createServer((_request, response) => response.end(pages[served++ % pages.length])));
  urls.failing = await listen(http.createServer((_request, response) => { response.statusCode = 500; response.end('<h1>rs1</h1>'); }));
  // Answers every request on the connection it came on and says keep-alive, whatever the client asked.
  urls.kept = await listen(net.createServer((socket) => {
    socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\n<h1>rs1</h1>\n'));
  }));
  urls.silent = await listen(http.createServer(() => undefined));
});

afterAll(() => {
  for (const server of servers) {
    if (server instanceof http.Server) server.closeAllConnections();
    server.close();
  }
});

async function runClient(input: { requests: number; timeLimitSeconds?: number; urls: string[]; loop?: boolean }): Promise<{ output: ClientOutput; stdout: string }> {
  const nonce = 'c0ffee';
  let script = clientScript({
    nonce,
    requests: input.requests,
    timeoutSeconds: 1,
    timeLimitSeconds: input.timeLimitSeconds ?? 60,
    services: input.urls.map((url, index) => ({ index, url })),
    pages: [],
  });
  if (input.loop) {
    const batchOn = 'then batch=1; fi';
    expect(script).toContain(batchOn);
    script = script.replace(batchOn, 'then batch=; fi');
  }
  const child = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(script);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect([code, stderr]).toEqual([0, '']);
  return { output: parseClientOutput(nonce, stdout), stdout };
}

const named = (output: ClientOutput, index: number): Array<[number, string | undefined]> =>
  (output.requests.get(index) ?? []).map((outcome) => [outcome.rc, outcome.name]);

describe('the client script against real web servers', () => {
  it('reads each page\'s name as the per-request loop does, and fails what the loop fails', async () => {
    const expected = names.map((name): [number, string | undefined] => [0, name]);
    served = 0;
    const batch = await runClient({ requests: pages.length, urls: [urls.named, urls.failing] });
    expect(batch.stdout).toContain('c0ffee fetcher curl');
    expect(named(batch.output, 0)).toEqual(expected);
    expect(named(batch.output, 1)).toEqual(Array(pages.length).fill([22, undefined]));
    expect(batch.output.stopped.size).toBe(0);
    expect(batch.output.complete).toBe(true);
    served = 0;
    const loop = await runClient({ requests: pages.length, urls: [urls.named, urls.failing], loop: true });
    expect(named(loop.output, 0)).toEqual(expected);
    expect(named(loop.output, 1)).toEqual(named(batch.output, 1));
  });

  it('counts a request that reused the connection before it as failed, with the reason', async () => {
    const { output } = await runClient({ requests: 3, urls: [urls.kept] });
    expect(named(output, 0)).toEqual([[0, 'rs1'], [-1, undefined], [-1, undefined]]);
    expect(describeFailure({ rc: -1 }, 'curl')).toMatch(/reused the connection .*Connection: close/);
    // Each request of the loop is a curl of its own, so a new connection.
    expect(named((await runClient({ requests: 3, urls: [urls.kept], loop: true })).output, 0)).toEqual(Array(3).fill([0, 'rs1']));
  });

  it('bounds each request by --timeout and the service by its time limit, and says where it stopped', async () => {
    const started = Date.now();
    const { output } = await runClient({ requests: 10, timeLimitSeconds: 2, urls: [urls.silent, urls.named] });
    const outcomes = output.requests.get(0) ?? [];
    expect(outcomes.length).toBeGreaterThanOrEqual(1);
    expect(outcomes.length).toBeLessThan(10);
    expect(outcomes.every((outcome) => outcome.rc === 28)).toBe(true);
    expect(output.stopped.get(0)).toBe(outcomes.length + 1);
    // The next service runs after the one the limit stopped.
    expect((output.requests.get(1) ?? []).length).toBe(10);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
