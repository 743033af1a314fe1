import type { ClusterLab } from './cluster-lab.js';

// A client that sends a request through a VIP at a fixed rate for a whole test file, whatever
// happens to the directors: one node process on the lab's client, a new request (on a new
// connection) every `everyMs`, not waiting for the one before, so a request stuck on a dead
// director does not slow the stream. Each request, when it ends, appends a line to a log in the
// client: `SENT DONE ok SERVER` or `SENT DONE failed REASON`, in milliseconds of the guest's
// clock, which every lab host shares, so a test compares them with `guestNow` taken on any host.

export interface RequestRecord {
  readonly sent: number;
  readonly done: number;
  readonly ok: boolean;
  /** The server that answered, or why the request failed. */
  readonly detail: string;
}

const LOG = '/tmp/lvsprov-stream.log';
const STOP = '/tmp/lvsprov-stream.stop';

export const STREAM = String.raw`
import http from 'node:http';
import { appendFileSync, existsSync } from 'node:fs';
const [log, stop, url, everyMs, timeoutMs] = process.argv.slice(2);
const once = () => {
  const sent = Date.now();
  let ended = false;
  const record = (verdict, detail) => {
    if (ended) return;
    ended = true;
    appendFileSync(log, sent + ' ' + Date.now() + ' ' + verdict + ' ' + String(detail).replace(/\s+/g, '_') + '\n');
  };
  const request = http.get(url, { agent: false, timeout: Number(timeoutMs), headers: { Connection: 'close' } }, (response) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk) => (body += chunk));
    response.on('end', () => (response.statusCode === 200 ? record('ok', /<h1>([^<]*)<\/h1>/.exec(body)?.[1] ?? '?') : record('failed', 'HTTP ' + response.statusCode)));
    response.on('error', (error) => record('failed', error.message));
  });
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
  records(): Promise<RequestRecord[]>;
  /** Stops sending, waits for the requests in flight, and gives every record. */
  stop(): Promise<RequestRecord[]>;
}

export async function startRequestStream(lab: ClusterLab, url: string, everyMs = 100, timeoutMs = 3000): Promise<RequestStream> {
  const client = lab.clientName;
  await lab.sh(client, `rm -f ${LOG} ${STOP}; : > ${LOG}; cat > /tmp/lvsprov-stream.mjs <<'STREAM'\n${STREAM}\nSTREAM`);
  const running = lab.sh(client, `exec node /tmp/lvsprov-stream.mjs ${LOG} ${STOP} ${url} ${everyMs} ${timeoutMs}`, 3_600_000);
  running.catch(() => undefined);
  const records = async (): Promise<RequestRecord[]> => parseRecords(await lab.sh(client, `cat ${LOG}`));
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

export function parseRecords(text: string): RequestRecord[] {
  return text
    .split('\n')
    .map((line) => /^(\d+) (\d+) (ok|failed) (\S*)$/.exec(line))
    .filter((match) => match !== null)
    .map(([, sent, done, verdict, detail]) => ({ sent: Number(sent), done: Number(done), ok: verdict === 'ok', detail: (detail ?? '').replace(/_/g, ' ') }));
}

export interface Outage {
  /** The longest time without an answer: between two answers in a row, by when they came. */
  readonly gapMs: number;
  /** When the last answer before that gap and the first answer after it came. */
  readonly lastBefore: number;
  readonly firstAfter: number;
  /** Requests sent in the window. */
  readonly total: number;
  /** Requests sent in the window that failed. */
  readonly failed: readonly RequestRecord[];
  /**
   * Of those, the ones sent once the handover was over: after the gap, and after the moment the
   * VIP's new holder was reached (`switchedAt`). There must be none. A request in flight through
   * the old holder when the VIP moved is not among them: its next packet reaches a director that
   * never saw its SYN, whose kernel resets it (unless connection sync had told it); it counts in
   * `failed`.
   */
  readonly failedAfterHandover: readonly RequestRecord[];
}

/**
 * What the stream saw from `from` to `to`: the longest gap between answers (counted from the
 * last answer before `from`, so an outage that starts at once is measured whole) and the
 * requests that failed. An outage still going on at `to` counts up to `to`. `switchedAt`, when
 * known, is when the client's requests began to reach the VIP's new holder.
 */
export function outage(records: readonly RequestRecord[], from: number, to: number, switchedAt = from): Outage {
  const answers = records
    .filter((record) => record.ok)
    .map((record) => record.done)
    .sort((a, b) => a - b);
  const before = answers.filter((done) => done < from).at(-1);
  const during = answers.filter((done) => done >= from && done <= to);
  // `to` closes the window: an outage still going on at its end counts up to there.
  const times = [...(before === undefined ? [] : [before]), ...during, to];
  let lastBefore = times[0] as number;
  let firstAfter = times.length > 1 ? (times[1] as number) : to;
  for (let index = 1; index < times.length; index += 1) {
    const gap = (times[index] as number) - (times[index - 1] as number);
    if (gap > firstAfter - lastBefore) {
      lastBefore = times[index - 1] as number;
      firstAfter = times[index] as number;
    }
  }
  const sent = records.filter((record) => record.sent >= from && record.sent <= to);
  const failed = sent.filter((record) => !record.ok);
  return { gapMs: firstAfter - lastBefore, lastBefore, firstAfter, total: sent.length, failed, failedAfterHandover: failed.filter((record) => record.sent >= Math.max(firstAfter, switchedAt)) };
}

/** One line for the test's log. */
export function describeOutage(what: string, seen: Outage): string {
  const reasons = [...new Set(seen.failed.map((record) => record.detail))].join('; ');
  return `${what}: longest gap ${(seen.gapMs / 1000).toFixed(2)} s; ${seen.failed.length} of ${seen.total} requests failed${reasons ? ` (${reasons})` : ''}; ${seen.failedAfterHandover.length} failed after the handover`;
}
