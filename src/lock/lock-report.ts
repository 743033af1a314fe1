import { hostNamePattern } from '../config/values.js';

// The lock snippets' one-line reports, parsed. A holder's fields come from a file on the host, so
// each is checked for its shape and dropped when it is not what lvsprov writes.

export interface LockHolder {
  readonly run?: string;
  readonly control?: string;
  readonly pid?: number;
  readonly started?: string;
  readonly age?: number;
  /** The inventory name its run reaches the host by. */
  readonly host?: string;
}

export type LockReport =
  | { readonly state: 'acquired'; readonly waitedSeconds: number; readonly previous?: LockHolder }
  /** Held by an older run, which goes first: this run must give up the hosts it holds. */
  | { readonly state: 'older'; readonly waitedSeconds: number; readonly holder: LockHolder }
  | { readonly state: 'timeout'; readonly waitedSeconds: number; readonly holder: LockHolder }
  /** Held by this very run, through its connection to another inventory host: one machine under two names. */
  | { readonly state: 'self'; readonly holder: LockHolder }
  | { readonly state: 'held' }
  /** A later exec found the lock no longer this run's (its lease ran out and another run took it). */
  | { readonly state: 'lost'; readonly holder: LockHolder }
  | { readonly state: 'released' }
  | { readonly state: 'unsupported'; readonly reason: string }
  /** The script printed no report: it died before the lock, or this run's connection went. */
  | { readonly state: 'missing' };

const fieldShapes: Record<keyof LockHolder, RegExp> = {
  run: /^[0-9a-f]{1,64}$/,
  control: /^[A-Za-z0-9._-]{1,64}$/,
  pid: /^\d{1,10}$/,
  started: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
  age: /^\d{1,19}$/,
  host: hostNamePattern,
};

function holderFrom(fields: ReadonlyMap<string, string>): LockHolder {
  const holder: Record<string, string | number> = {};
  for (const [key, shape] of Object.entries(fieldShapes)) {
    const value = fields.get(key);
    if (value === undefined || !shape.test(value)) continue;
    holder[key] = key === 'pid' || key === 'age' ? Number(value) : value;
  }
  return holder as LockHolder;
}

/** The last report with this nonce in a script's output. */
export function parseLockReport(nonce: string, output: string): LockReport {
  const pattern = new RegExp(`^(?:\\.*)lvsprov-lock ${nonce} (\\w+)(.*)$`, 'gm');
  const last = [...output.matchAll(pattern)].at(-1);
  if (!last) return { state: 'missing' };
  const fields = new Map<string, string>();
  for (const word of (last[2] ?? '').trim().split(/\s+/)) {
    const equals = word.indexOf('=');
    if (equals > 0 && !fields.has(word.slice(0, equals))) fields.set(word.slice(0, equals), word.slice(equals + 1));
  }
  const waitedSeconds = /^\d+$/.test(fields.get('waited') ?? '') ? Number(fields.get('waited')) / 100 : 0;
  const holder = holderFrom(fields);
  switch (last[1]) {
    case 'acquired':
      return waitedSeconds > 0 && Object.keys(holder).length > 0 ? { state: 'acquired', waitedSeconds, previous: holder } : { state: 'acquired', waitedSeconds };
    case 'older':
    case 'timeout':
      return { state: last[1], waitedSeconds, holder };
    case 'held':
    case 'released':
      return { state: last[1] };
    case 'lost':
    case 'self':
      return { state: last[1], holder };
    case 'unsupported':
      return { state: 'unsupported', reason: fields.get('reason') === 'no-flock' ? 'flock is not installed (util-linux)' : 'cannot write /run/lvsprov/run.lock' };
    default:
      return { state: 'missing' };
  }
}

/** `lvsprov pid 4242 on ctl1, started 2026-11-30T04:01:02Z`, with whatever is known. */
export function describeHolder(holder: LockHolder): string {
  if (holder.pid === undefined && holder.control === undefined) return 'another lvsprov run (its owner file did not say which: unreadable, or being rewritten)';
  const who = `lvsprov pid ${holder.pid ?? '?'} on ${holder.control ?? '?'}`;
  const named = holder.started ? `${who}, started ${holder.started}` : who;
  return holder.host ? `${named}, which reaches it as ${holder.host}` : named;
}
