// Reads back what the client script printed (see client-script.ts). Only lines that start with
// this run's nonce count; anything else a login shell prints is ignored.

export interface FetchOutcome {
  /** Exit status of curl or wget: 0 fetched, 7 refused, 28 timed out, 22 HTTP error... */
  readonly rc: number;
  /** The host the page named; absent when no page came back or it named nobody. */
  readonly name?: string;
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
  /** Whether the script ran to its end marker. */
  readonly complete: boolean;
}

export function parseClientOutput(nonce: string, stdout: string): ClientOutput {
  let fetcher: string | undefined;
  let complete = false;
  const requests = new Map<number, FetchOutcome[]>();
  const stopped = new Map<number, number>();
  const pages = new Map<number, FetchOutcome>();
  for (const line of stdout.split('\n')) {
    const words = line.trimEnd().split(' ');
    if (words[0] !== nonce) continue;
    const [, kind, ...rest] = words;
    if (kind === 'fetcher') fetcher = rest.join(' ');
    else if (kind === 'end') complete = true;
    else if (kind === 'stop' && rest.length === 2) stopped.set(Number(rest[0]), Number(rest[1]));
    else if (kind === 'p' && rest.length === 3) pages.set(Number(rest[0]), outcome(rest[1], rest[2]));
    else if (kind === 'r' && rest.length === 4) {
      const index = Number(rest[0]);
      const list = requests.get(index) ?? [];
      list.push(outcome(rest[2], rest[3]));
      requests.set(index, list);
    }
  }
  return { ...(fetcher !== undefined ? { fetcher } : {}), requests, stopped, pages, complete };
}

function outcome(rc: string | undefined, name: string | undefined): FetchOutcome {
  const valid = name !== undefined && name !== '-' && /^[A-Za-z0-9_.-]+$/.test(name);
  return { rc: Number(rc), ...(valid ? { name } : {}) };
}

/** Why a fetch got no named page, in words. */
export function describeFailure(outcome: FetchOutcome, fetcher: string | undefined): string {
  if (outcome.rc === 0) return 'the page names no host (no <h1>NAME</h1>)';
  if (fetcher === 'curl') {
    const known: Record<number, string> = {
      6: 'could not resolve the host',
      7: 'connection refused or no route',
      22: 'HTTP error status',
      28: 'timed out',
      52: 'empty reply',
      56: 'connection reset',
    };
    return `curl exit ${outcome.rc}${known[outcome.rc] ? ` (${known[outcome.rc]})` : ''}`;
  }
  if (outcome.rc === 124) return `${fetcher ?? 'fetch'} timed out`;
  const wget: Record<number, string> = { 4: 'network failure', 8: 'HTTP error status' };
  const known = fetcher === 'wget' ? wget[outcome.rc] : undefined;
  return `${fetcher ?? 'fetch'} exit ${outcome.rc}${known ? ` (${known})` : ''}`;
}
