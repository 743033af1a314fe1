import type { Outage, RequestRecord } from '../../src/verify/failover/outage.js';
import type { ClusterLab } from './cluster-lab.js';

// The gap arithmetic is verify --failover's, one home for both.
export { outage, type Outage, type RequestRecord } from '../../src/verify/failover/outage.js';

// A client that sends a request through a VIP at a fixed rate for a whole test file, whatever
// happens to the directors: one node process on the lab's client, a new request (on a new
// connection) every `everyMs`, not waiting for the one before, so a request stuck on a dead
// director does not slow the stream. Each request, when it ends, appends a line to a log in the
// client: `SENT CONNECTED DONE ok SERVER` or `SENT CONNECTED DONE failed REASON`, in milliseconds
// of the guest's clock, which every lab host shares, so a test compares them with `guestNow` taken
// on any host. CONNECTED is when its TCP handshake completed (`-`: never): the SYN of a request
// that connected was taken by some director's IPVS, that of one that never did by none.

const LOG = '/tmp/lvsprov-stream.log';
const STOP = '/tmp/lvsprov-stream.stop';

export const STREAM = String.raw`
import http from 'node:http';
import { appendFileSync, existsSync } from 'node:fs';
const [log, stop, url, everyMs, timeoutMs] = process.argv.slice(2);
const once = () => {
  const sent = Date.now();
  let connected = '-';
  let ended = false;
  const record = (verdict, detail) => {
    if (ended) return;
    ended = true;
    appendFileSync(log, sent + ' ' + connected + ' ' + Date.now() + ' ' + verdict + ' ' + String(detail).replace(/\s+/g, '_') + '\n');
  };
  const request = http.get(url, { agent: false, timeout: Number(timeoutMs), headers: { Connection: 'close' } }, (response) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk) => (body += chunk));
    response.on('end', () => (response.statusCode === 200 ? record('ok', /<h1>([^<]*)<\/h1>/.exec(body)?.[1] ?? '?') : record('failed', 'HTTP ' + response.statusCode)));
    response.on('error', (error) => record('failed', error.message));
  });
  request.on('socket', (socket) => socket.once('connect', () => (connected = Date.now())));
  request.on('timeout', () => request.destroy(new Error('no answer within ' + timeoutMs + ' ms')));
  request.on('error', (error) => record('failed', error.message));
};
const timer = setInterval(() => {
  if (existsSync(stop)) {
    clearInterval(timer);
    setTimeout(() => process.exit(0), Number(timeoutMs) + 500);
  } else once();
}, Number(everyMs));
`;

export interface RequestStream {
  /** Every request that ended so far. */
  records(): Promise<StreamRecord[]>;
  /** Stops sending, waits for the requests in flight, and gives every record. */
  stop(): Promise<StreamRecord[]>;
}

export async function startRequestStream(lab: ClusterLab, url: string, everyMs = 100, timeoutMs = 3000): Promise<RequestStream> {
  const client = lab.clientName;
  await lab.sh(client, `rm -f ${LOG} ${STOP}; : > ${LOG}; cat > /tmp/lvsprov-stream.mjs <<'STREAM'\n${STREAM}\nSTREAM`);
  const running = lab.sh(client, `exec node /tmp/lvsprov-stream.mjs ${LOG} ${STOP} ${url} ${everyMs} ${timeoutMs}`, 3_600_000);
  running.catch(() => undefined);
  const records = async (): Promise<StreamRecord[]> => parseRecords(await lab.sh(client, `cat ${LOG}`));
  const deadline = Date.now() + 120_000;
  while (!(await records()).some((record) => record.ok)) {
    if (Date.now() > deadline) {
      const last = (await records()).slice(-5).map((record) => record.detail);
      throw new Error(`no request through ${url} was answered within 120 s of starting the stream; the last ones: ${JSON.stringify(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return {
    records,
    stop: async () => {
      await lab.sh(client, `touch ${STOP}`);
      await running;
      return records();
    },
  };
}

/** The guest's clock in milliseconds, read on `host`, the clock of the stream's records. */
export async function guestNow(lab: ClusterLab, host: string): Promise<number> {
  return Number((await lab.sh(host, 'date +%s%3N')).trim());
}

/** A request of the stream: when its TCP handshake completed, if it did. */
export interface StreamRecord extends RequestRecord {
  readonly connected?: number;
}

/** The stream's log; a line without the CONNECTED field (`SENT DONE verdict detail`) is read too. */
export function parseRecords(text: string): StreamRecord[] {
  return text
    .split('\n')
    .map((line) => /^(\d+) (?:(\d+|-) )?(\d+) (ok|failed) (\S*)$/.exec(line))
    .filter((match) => match !== null)
    .map(([, sent, connected, done, verdict, detail]) => ({
      sent: Number(sent),
      ...(connected !== undefined && connected !== '-' ? { connected: Number(connected) } : {}),
      done: Number(done),
      ok: verdict === 'ok',
      detail: (detail ?? '').replace(/_/g, ' '),
    }));
}

/** One line for the test's log. */
export function describeOutage(what: string, seen: Outage): string {
  const reasons = [...new Set(seen.failed.map((record) => record.detail))].join('; ');
  return `${what}: longest gap ${(seen.gapMs / 1000).toFixed(2)} s; ${seen.failed.length} of ${seen.total} requests failed${reasons ? ` (${reasons})` : ''}; ${seen.failedAfterHandover.length} failed after the handover`;
}
