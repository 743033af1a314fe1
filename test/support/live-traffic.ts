import type { ClusterLab } from './cluster-lab.js';

// Traffic through the VIPs while an apply runs, from the lab's client host. Requests: one node
// process sends them one at a time, each on a new connection (no keep-alive agent), cycling over
// the URLs, until told to stop; each one that does not end in a 200 within 5 s is a failure.
// Downloads: rate-limited curls of a large file (about 70 s each), each reporting the bytes it got
// and its exit; one that stalls for 20 s (its connection cut) gives up with exit 28.

export interface RequestLog {
  readonly total: number;
  readonly failed: ReadonlyArray<{ readonly url: string; readonly at: number; readonly error: string }>;
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
  const request = http.get(url, { agent: false, timeout: 5000, headers: { Connection: 'close' } }, (response) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk) => (body += chunk));
    response.on('end', () => resolve(response.statusCode === 200 ? { server: /<h1>([^<]*)<\/h1>/.exec(body)?.[1] ?? '?' } : { error: 'HTTP ' + response.statusCode }));
    response.on('error', (error) => resolve({ error: error.message }));
  });
  request.on('timeout', () => request.destroy(new Error('no answer within 5 s')));
  request.on('error', (error) => resolve({ error: error.message }));
});
for (let i = 0; !existsSync('${STOP}'); i++) {
  const url = urls[i % urls.length];
  const at = Date.now();
  const result = await once(url);
  total++;
  if (result.error) failed.push({ url, at, error: result.error });
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
  readonly exit: number;
}

/**
 * Starts the downloads in the background and waits until the director shows them as active
 * connections to rs3 and rs4 (the servers about to leave): `onLeavingServers` is how many.
 */
export async function startDownloads(lab: ClusterLab, urls: readonly string[]): Promise<{ onLeavingServers: number; wait(): Promise<Download[]> }> {
  const script = urls
    .map((url) => `(bytes=$(curl -s -o /dev/null --max-time 900 --speed-limit 1 --speed-time 20 --limit-rate 150k -w '%{size_download}' ${url}big.bin); echo "${url} $bytes $?") &`)
    .join('\n');
  const running = lab.sh(lab.clientName, `${script}\nwait`, 1_200_000);
  running.catch(() => undefined);
  let active = 0;
  const deadline = Date.now() + 120_000;
  while (active < urls.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const table = await lab.sh('director', 'ipvsadm -L -n');
    active = [...table.matchAll(/^\s+->\s+192\.0\.2\.1[34]:80\s+\S+\s+\d+\s+(\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
  }
  return {
    onLeavingServers: active,
    wait: async () =>
      (await running)
        .trim()
        .split('\n')
        .map((line) => {
          const [url = '', bytes = '', exit = ''] = line.split(' ');
          return { url, bytes: Number(bytes), exit: Number(exit) };
        }),
  };
}
