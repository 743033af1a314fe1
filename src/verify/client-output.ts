// Reads back what the client script printed (see client-script.ts). Only lines that start with
// this run's nonce count; anything else a login shell prints is ignored.

export interface FetchOutcome {
  /** Exit status of curl or wget: 0 fetched, 7 refused, 28 timed out, 22 HTTP error...; -1 a reused connection. */
  readonly rc: number;
  /** The host the page named; absent when no page came back or it named nobody. */
  readonly name?: string;
}

/** One answer of the session page: who answered, the session's request count, its id. */
export interface SessionAnswer {
  readonly rc: number;
  readonly server?: string;
  readonly count?: number;
  readonly session?: string;
}

export interface ClientOutput {
  /** `curl`, `wget` or `busybox wget`; `none` when the client has none of them. */
  readonly fetcher?: string;
  /** Per service index, the outcome of each request in order. */
  readonly requests: ReadonlyMap<number, readonly FetchOutcome[]>;
  /** Per service index, the request at which the time limit stopped the loop. */
  readonly stopped: ReadonlyMap<number, number>;
  /** Per direct page index. */
  readonly pages: ReadonlyMap<number, FetchOutcome>;
  /** Per service index, the session page's answers in order (with lvs.sessions). */
  readonly sessions: ReadonlyMap<number, readonly SessionAnswer[]>;
  /** Whether the script ran to its end marker. */
  readonly complete: boolean;
}

/** One line of the client's output, or undefined for a line of someone else's (a login banner). */
export type ClientLine =
  | { readonly kind: 'fetcher'; readonly fetcher: string }
  | { readonly kind: 'end' }
  | { readonly kind: 'stop'; readonly index: number; readonly at: number }
  | { readonly kind: 'done'; readonly index: number }
  | { readonly kind: 'page'; readonly index: number; readonly outcome: FetchOutcome }
  | { readonly kind: 'request'; readonly index: number; readonly outcome: FetchOutcome }
  | { readonly kind: 'session'; readonly index: number; readonly answer: SessionAnswer };

export function readClientLine(nonce: string, line: string): ClientLine | undefined {
  const words = line.trimEnd().split(' ');
  if (words[0] !== nonce) return undefined;
  const [, kind, ...rest] = words;
  if (kind === 'fetcher') return { kind, fetcher: rest.join(' ') };
  if (kind === 'end') return { kind };
  if (kind === 'stop' && rest.length === 2) return { kind, index: Number(rest[0]), at: Number(rest[1]) };
  if (kind === 'done' && rest.length === 1) return { kind, index: Number(rest[0]) };
  if (kind === 'p' && rest.length === 3) return { kind: 'page', index: Number(rest[0]), outcome: outcome(rest[1], rest[2]) };
  if (kind === 'r' && rest.length === 4) return { kind: 'request', index: Number(rest[0]), outcome: outcome(rest[2], rest[3]) };
  if (kind === 's' && rest.length === 6) return { kind: 'session', index: Number(rest[0]), answer: sessionAnswer(rest.slice(2)) };
  return undefined;
}

export function parseClientOutput(nonce: string, stdout: string): ClientOutput {
  let fetcher: string | undefined;
  let complete = false;
  const requests = new Map<number, FetchOutcome[]>();
  const stopped = new Map<number, number>();
  const pages = new Map<number, FetchOutcome>();
  const sessions = new Map<number, SessionAnswer[]>();
  for (const line of stdout.split('\n')) {
    const read = readClientLine(nonce, line);
    if (read?.kind === 'fetcher') fetcher = read.fetcher;
    else if (read?.kind === 'end') complete = true;
    else if (read?.kind === 'stop') stopped.set(read.index, read.at);
    else if (read?.kind === 'page') pages.set(read.index, read.outcome);
    else if (read?.kind === 'request') {
      const list = requests.get(read.index) ?? [];
      list.push(read.outcome);
      requests.set(read.index, list);
    } else if (read?.kind === 'session') sessions.set(read.index, [...(sessions.get(read.index) ?? []), read.answer]);
  }
  return { ...(fetcher !== undefined ? { fetcher } : {}), requests, stopped, pages, sessions, complete };
}

function sessionAnswer([rc, server, count, session]: readonly string[]): SessionAnswer {
  return {
    rc: Number(rc),
    ...(server !== undefined && /^[A-Za-z0-9_.-]+$/.test(server) && server !== '-' ? { server } : {}),
    ...(count !== undefined && /^\d+$/.test(count) ? { count: Number(count) } : {}),
    ...(session !== undefined && /^[A-Za-z0-9,-]+$/.test(session) && session !== '-' ? { session } : {}),
  };
}

function outcome(rc: string | undefined, name: string | undefined): FetchOutcome {
  const valid = name !== undefined && name !== '-' && /^[A-Za-z0-9_.-]+$/.test(name);
  return { rc: Number(rc), ...(valid ? { name } : {}) };
}

/**
 * Why a fetch got no named page, in words. With the per-request limit a timeout names it and the
 * option that sets it: a slow page (a PHP session page on an emulated lab host) is not a dead one.
 */
export function describeFailure(outcome: FetchOutcome, fetcher: string | undefined, timeoutSeconds?: number): string {
  const timedOut = timeoutSeconds === undefined ? 'timed out' : `timed out after ${timeoutSeconds} s, verify's --timeout`;
  if (outcome.rc === 0) return 'the page names no host (no <h1>NAME</h1>)';
  if (fetcher === 'curl') {
    if (outcome.rc === -1) return 'reused the connection of the request before it (the server kept it open after Connection: close), so the director did not schedule it';
    const known: Record<number, string> = {
      6: 'could not resolve the host',
      7: 'connection refused or no route',
      22: 'HTTP error status',
      28: timedOut,
      52: 'empty reply',
      56: 'connection reset',
    };
    return `curl exit ${outcome.rc}${known[outcome.rc] ? ` (${known[outcome.rc]})` : ''}`;
  }
  if (outcome.rc === 124) return `${fetcher ?? 'fetch'} ${timedOut}`;
  const wget: Record<number, string> = { 4: 'network failure', 8: 'HTTP error status' };
  const known = fetcher === 'wget' ? wget[outcome.rc] : undefined;
  return `${fetcher ?? 'fetch'} exit ${outcome.rc}${known ? ` (${known})` : ''}`;
}
