import type { CheckStatus } from './report.js';
import { readClientLine } from './client-output.js';

// What verify reports while it runs, as each part ends: a virtual service once the client's
// request loop for it is over, an ARP check, a host that could not be reached. The CLI prints
// these on stderr; the report itself comes at the end.

export type VerifyProgress =
  | { readonly kind: 'start'; readonly client: string; readonly requests: number; readonly services: readonly string[]; readonly vips: readonly string[] }
  | {
      readonly kind: 'service';
      readonly name: string;
      readonly sent: number;
      readonly answered: number;
      /** Answers per name the pages gave, in the order first seen. */
      readonly answers: Readonly<Record<string, number>>;
      readonly seconds: number;
    }
  | { readonly kind: 'arp'; readonly vip: string; readonly status: CheckStatus; readonly responders: readonly string[] }
  | { readonly kind: 'unreachable'; readonly host: string; readonly role: string; readonly message: string };

export type ProgressSink = (event: VerifyProgress) => void;

/**
 * A stdout listener for the client script: counts each service's answers as lines arrive and
 * reports the service when its `done` line comes. `names` maps the service index to its name.
 */
export function clientProgress(nonce: string, names: ReadonlyMap<number, string>, sink: ProgressSink): (text: string) => void {
  let partial = '';
  let since = performance.now();
  const tallies = new Map<number, { sent: number; answered: number; answers: Record<string, number> }>();
  return (text) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const read = readClientLine(nonce, line);
      // The first service's clock starts once the direct page fetches before it are done.
      if (read?.kind === 'fetcher' || read?.kind === 'page') since = performance.now();
      else if (read?.kind === 'request') {
        const tally = tallies.get(read.index) ?? { sent: 0, answered: 0, answers: {} };
        tally.sent += 1;
        const name = read.outcome.name;
        if (name !== undefined) {
          tally.answered += 1;
          tally.answers[name] = (tally.answers[name] ?? 0) + 1;
        }
        tallies.set(read.index, tally);
      } else if (read?.kind === 'done') {
        const tally = tallies.get(read.index) ?? { sent: 0, answered: 0, answers: {} };
        const now = performance.now();
        sink({ kind: 'service', name: names.get(read.index) ?? `#${read.index}`, ...tally, seconds: (now - since) / 1000 });
        since = now;
      }
    }
  };
}
