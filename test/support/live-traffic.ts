import type { ClusterLab } from './cluster-lab.js';

// Traffic through the VIPs while an apply runs, from the lab's client host. Requests: one node
// process sends them one at a time, each on a new connection (no keep-alive agent), cycling over
// the URLs, until told to stop; each one that does not end in a 200 within 5 s is a failure.
// Downloads: see startDownloads.

export interface RequestLog {
  readonly total: number;
  readonly failed: ReadonlyArray<{ readonly url: string; readonly at: number; readonly error: string; readonly port?: number }>;
  /** Which server answered, per URL. */
  readonly servers: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export const DOWNLOAD_BYTES = 10 * 1024 * 1024;
const STOP = '/tmp/lvsprov-requests.stop';
const STARTED = '/tmp/lvsprov-requests.started';

const LOOP = String.raw`
import http from 'node:http';
import { existsSync, writeFileSync } from 'node:fs';
const urls = process.argv.slice(2);
const failed = [];
const servers = {};
let total = 0;
const once = (url) => new Promise((resolve) => {
  let port;
  const request = http.get(url, { agent: false, timeout: 5000, headers: { Connection: 'close' } }, (response) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk) => (body += chunk));
    response.on('end', () => resolve(response.statusCode === 200 ? { server: /<h1>([^<]*)<\/h1>/.exec(body)?.[1] ?? '?' } : { error: 'HTTP ' + response.statusCode }));
    response.on('error', (error) => resolve({ error: error.message }));
  });
  // The client's port, to find the request's entry in the director's connection table.
  request.on('timeout', () => { port = request.socket?.localPort; request.destroy(new Error('no answer within 5 s')); });
  request.on('error', (error) => resolve({ error: error.message, port: port ?? request.socket?.localPort }));
});
for (let i = 0; !existsSync('${STOP}'); i++) {
  const url = urls[i % urls.length];
  const at = Date.now();
  const result = await once(url);
  total++;
  if (result.error) failed.push({ url, at, error: result.error, port: result.port });
  else (servers[url] ??= {})[result.server] = (servers[url][result.server] ?? 0) + 1;
  if (total === urls.length) writeFileSync('${STARTED}', '');
  await new Promise((resolve) => setTimeout(resolve, 20));
}
console.log(JSON.stringify({ total, failed, servers }));
`;

export async function startRequests(lab: ClusterLab, urls: readonly string[]): Promise<{ stop(): Promise<RequestLog> }> {
  const client = lab.clientName;
  await lab.sh(client, `rm -f ${STOP} ${STARTED}; cat > /tmp/lvsprov-requests.mjs <<'LOOP'\n${LOOP}\nLOOP`);
  const running = lab.sh(client, `exec node /tmp/lvsprov-requests.mjs ${urls.join(' ')}`, 3_600_000);
  running.catch(() => undefined);
  const deadline = Date.now() + 120_000;
  while ((await lab.sh(client, `[ -e ${STARTED} ] && echo yes || true`)).trim() !== 'yes') {
    if (Date.now() > deadline) throw new Error('the request loop did not start within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return {
    stop: async () => {
      await lab.sh(client, `touch ${STOP}`);
      const output = await running;
      return JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as RequestLog;
    },
  };
}

export interface Download {
  readonly url: string;
  readonly bytes: number;
  /** Empty when the download ended with every byte the server announced. */
  readonly error: string;
  /** When it ended, in milliseconds of the lab guest's clock (the one its hosts share). */
  readonly at: number;
}

/** One line of the director's `ipvsadm -L -n -c`: `TCP 14:59 ESTABLISHED CLIENT VIRTUAL DESTINATION`. */
export interface DirectorConnection {
  readonly state: string;
  /** The client's address and port: with virtual and destination, what tells one connection from another. */
  readonly source: string;
  readonly virtual: string;
  readonly destination: string;
}

export function parseConnections(text: string): DirectorConnection[] {
  return [...text.matchAll(/^(?:TCP|UDP)\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$/gm)].map(([, state = '', source = '', virtual = '', destination = '']) => ({ state, source, virtual, destination }));
}

const RELEASE = '/tmp/lvsprov-downloads.release';
const PORTS = '/tmp/lvsprov-downloads.ports';

// Each download reads its first bytes, then stops reading until the test releases it, then reads
// the rest at full speed; one that then gets nothing for 20 s (its connection cut) gives up. Once
// every download has its answer, their client ports are written down: the director's table tells
// a download's connection from the client's other requests by them. A
// held download is a connection in flight for as long as the test needs, whatever the machine's
// speed: TCP's flow control holds the server while the client does not read. (A rate-limited
// curl is not: with the kernel's receive buffer of up to 6 MB, the server pushes a 10 MB file into
// the client in seconds and closes, while curl, far ahead of its rate, sleeps on bytes it already
// holds and gives up past --speed-time, exit 28, at about 98 %.)
const DOWNLOADER = String.raw`
import http from 'node:http';
import { existsSync, writeFileSync } from 'node:fs';
const [release, portsFile, ...urls] = process.argv.slice(2);
const ports = [];
const one = (url) => new Promise((resolve) => {
  let bytes = 0, expected = -1, last = Date.now(), released = false, done = false;
  const finish = (error) => { if (!done) { done = true; clearInterval(timer); resolve({ url, bytes, error, at: Date.now() }); } };
  const timer = setInterval(() => {
    if (!released && existsSync(release)) { released = true; last = Date.now(); response?.resume(); }
    if (released && Date.now() - last > 20000) request.destroy(new Error('no data for 20 s'));
  }, 200);
  let response;
  const request = http.get(url, { agent: false }, (answer) => {
    response = answer;
    ports.push(answer.socket.localPort);
    if (ports.length === urls.length) writeFileSync(portsFile, ports.join(' '));
    expected = Number(answer.headers['content-length'] ?? -1);
    if (answer.statusCode !== 200) return finish('HTTP ' + answer.statusCode);
    answer.on('data', (chunk) => { bytes += chunk.length; last = Date.now(); if (!released) answer.pause(); });
    answer.on('end', () => finish(bytes === expected ? '' : 'ended after ' + bytes + ' of ' + expected + ' bytes'));
    answer.on('error', (error) => finish(error.message));
  });
  request.on('error', (error) => finish(error.message));
});
const results = await Promise.all(urls.map(one));
console.log(JSON.stringify(results));
`;

/**
 * Starts the downloads, held after their first bytes, and waits until `director` shows every
 * one of them ESTABLISHED on a server for which `leaving` says yes (`onLeavingServers`: how many
 * it saw; `sources`: the downloads' client address and port as the table shows them).
 * `release()` lets them finish; `wait()` gives what each received.
 */
export async function startDownloads(
  lab: ClusterLab,
  urls: readonly string[],
  leaving: (connection: DirectorConnection) => boolean,
  director = 'director',
): Promise<{ onLeavingServers: number; sources: string[]; release(): Promise<void>; wait(): Promise<Download[]> }> {
  const client = lab.clientName;
  await lab.sh(client, `rm -f ${RELEASE} ${PORTS}; cat > /tmp/lvsprov-downloads.mjs <<'DOWNLOADER'\n${DOWNLOADER}\nDOWNLOADER`);
  const running = lab.sh(client, `exec node /tmp/lvsprov-downloads.mjs ${RELEASE} ${PORTS} ${urls.join(' ')}`, 1_200_000);
  running.catch(() => undefined);
  // Only the downloads' own connections count: the client's other requests through the same VIP
  // (a stream of them, each ESTABLISHED for a moment) and entries an earlier case left behind (a
  // request cut by a VIP's move stays ESTABLISHED for the TCP timeout) are told apart by port.
  // Waits until every download is ESTABLISHED somewhere (not only on a leaving server: a case
  // whose downloads are split between servers would otherwise wait out the whole deadline).
  let sources: string[] = [];
  let established = 0;
  const deadline = Date.now() + 120_000;
  while (established < urls.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const ports = new Set((await lab.sh(client, `cat ${PORTS} 2>/dev/null || true`)).trim().split(/\s+/).filter((port) => port !== ''));
    if (ports.size < urls.length) continue;
    const downloads = parseConnections(await lab.sh(director, 'ipvsadm -L -n -c')).filter((connection) => connection.state === 'ESTABLISHED' && ports.has(connection.source.split(':').at(-1) ?? ''));
    established = downloads.length;
    sources = downloads.filter(leaving).map((connection) => connection.source);
  }
  return {
    onLeavingServers: sources.length,
    sources,
    release: async () => {
      await lab.sh(client, `touch ${RELEASE}`);
    },
    wait: async () => JSON.parse((await running).trim().split('\n').at(-1) ?? '[]') as Download[],
  };
}

/**
 * While `applying` runs, asks `seen` every 500 ms; once it holds, waits `holdMs` more (less if
 * the apply ends first). The seconds from the first time `seen` held to the end of the wait, or
 * undefined when it never held before the apply ended. The caller then lets its downloads go.
 */
export async function holdOnceSeen(applying: Promise<unknown>, seen: () => Promise<boolean>, holdMs: number): Promise<number | undefined> {
  let done = false;
  void applying.finally(() => (done = true)).catch(() => undefined);
  let since: number | undefined;
  while (!done && (since === undefined || Date.now() - since < holdMs)) {
    if (since === undefined && (await seen())) since = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return since === undefined ? undefined : (Date.now() - since) / 1000;
}
