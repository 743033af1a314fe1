import { quote } from '../../shell/quote.js';
import { scriptEnvironment } from '../../shell/script-environment.js';
import type { RequestRecord } from './outage.js';

// The drill's client: one node process that sends a request to each URL every `everyMs`, each
// on a new connection and without waiting for the one before, so a request stuck on a dead
// director does not slow the stream. A shell loop cannot hold that rate on a slow host (a process
// start per request costs ~0.2 s on an emulated one). Each request prints one line when it ends,
// in milliseconds of the client's clock; a tick line each interval tells the drill that clock.
// The stream stops when the stop file appears or after `limitSeconds`, whatever happens to the
// connection that started it.

export interface StreamInput {
  readonly nonce: string;
  readonly urls: readonly string[];
  readonly everyMs: number;
  readonly timeoutMs: number;
  readonly limitSeconds: number;
}

const PROGRAM = String.raw`
const http = require('http');
const fs = require('fs');
const [nonce, stop, everyMs, timeoutMs, limitSeconds, ...urls] = process.argv.slice(1);
const out = (line) => process.stdout.write(nonce + ' ' + line + '\n');
process.stdout.on('error', () => process.exit(1));
let inFlight = 0;
const once = (target, url) => {
  const sent = Date.now();
  let ended = false;
  inFlight += 1;
  const record = (verdict, detail) => {
    if (ended) return;
    ended = true;
    inFlight -= 1;
    out('r ' + target + ' ' + sent + ' ' + Date.now() + ' ' + verdict + ' ' + (String(detail).replace(/[^A-Za-z0-9_.:-]+/g, '_') || '-'));
  };
  const request = http.get(url, { agent: false, timeout: Number(timeoutMs), headers: { Connection: 'close' } }, (response) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk) => { if (body.length < 65536) body += chunk; });
    response.on('end', () => (response.statusCode === 200 ? record('ok', (/<h1>([^<]*)<\/h1>/.exec(body) || [])[1] || '-') : record('failed', 'HTTP ' + response.statusCode)));
    // Node calls an answer whose connection closed after its headers only 'aborted': say what happened.
    response.on('error', () => record('failed', 'answer cut off: the connection closed mid-page'));
  });
  request.on('timeout', () => request.destroy(new Error('no answer within ' + timeoutMs + ' ms')));
  request.on('error', (error) => record('failed', error.message));
};
const until = Date.now() + Number(limitSeconds) * 1000;
out('start ' + Date.now());
const timer = setInterval(() => {
  const now = Date.now();
  out('t ' + now);
  if (fs.existsSync(stop) || now > until) {
    clearInterval(timer);
    const last = now + Number(timeoutMs) + 1000;
    const finish = () => {
      if (inFlight > 0 && Date.now() < last) return setTimeout(finish, 50);
      try { fs.rmSync(stop, { force: true }); } catch {}
      out('end ' + Date.now());
      process.exit(0);
    };
    finish();
    return;
  }
  urls.forEach((url, target) => once(target, url));
}, Number(everyMs));
`;

export function stopFile(nonce: string): string {
  return `/tmp/lvsprov-drill-${nonce}.stop`;
}

export function streamScript(input: StreamInput): string {
  if (!/^[0-9a-f]+$/.test(input.nonce)) throw new Error('the nonce must be hex');
  for (const url of input.urls) if (!/^http:\/\/\d{1,3}(\.\d{1,3}){3}:\d{1,5}\/$/.test(url)) throw new Error(`not a URL verify builds: ${url}`);
  for (const [label, value] of [['interval', input.everyMs], ['timeout', input.timeoutMs], ['limit', input.limitSeconds]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${label} must be a whole number of at least 1, not ${value}`);
  }
  const n = input.nonce;
  return [
    scriptEnvironment,
    // A proxy would answer for every director and hide the outage.
    'unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY',
    `command -v node >/dev/null 2>&1 || { printf '%s nonode\\n' ${n}; exit 0; }`,
    `rm -f ${stopFile(n)}`,
    `exec node -e ${quote(PROGRAM)} ${[n, stopFile(n), input.everyMs, input.timeoutMs, input.limitSeconds, ...input.urls].map(quote).join(' ')}`,
    '',
  ].join('\n');
}

/** Stops the stream: it sends nothing more, waits for the requests in flight, and ends. */
export function stopScript(nonce: string): string {
  if (!/^[0-9a-f]+$/.test(nonce)) throw new Error('the nonce must be hex');
  return `touch ${stopFile(nonce)}\n`;
}

/** The stream's output as it arrives: the records so far and the client's clock at the last tick. */
export class StreamLog {
  readonly records: RequestRecord[] = [];
  /** The client's clock at its last tick, and this process's clock when that tick arrived. */
  lastTick?: { readonly client: number; readonly local: number };
  started = false;
  ended = false;
  noNode = false;
  private partial = '';

  constructor(
    private readonly nonce: string,
    private readonly localNow: () => number = Date.now,
  ) {}

  /** Feed stdout as it comes; lines may be split across chunks. */
  push(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  /** The client's clock now, as near as the last tick tells (early by the tick's trip, never late). */
  clientNow(): number | undefined {
    return this.lastTick ? this.lastTick.client + (this.localNow() - this.lastTick.local) : undefined;
  }

  private line(line: string): void {
    const words = line.trim().split(' ');
    if (words[0] !== this.nonce) return;
    const [, kind, ...rest] = words;
    if (kind === 'nonode') this.noNode = true;
    else if (kind === 'start') this.started = true;
    else if (kind === 'end') this.ended = true;
    else if (kind === 't' && /^\d+$/.test(rest[0] ?? '')) this.lastTick = { client: Number(rest[0]), local: this.localNow() };
    else if (kind === 'r' && rest.length === 5 && rest.slice(0, 3).every((word) => /^\d+$/.test(word)) && (rest[3] === 'ok' || rest[3] === 'failed')) {
      const [target, sent, done, verdict, detail] = rest as [string, string, string, string, string];
      this.records.push({ target: Number(target), sent: Number(sent), done: Number(done), ok: verdict === 'ok', detail: detail.replace(/_/g, ' ') });
    }
  }
}
