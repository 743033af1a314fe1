import type { VerifyProgress } from '../verify/progress.js';
import { loadListr2, stderrListOptions } from './progress.js';

// verify's progress on stderr, as each service and ARP check ends: a live list (listr2, loaded
// only then) on a terminal, one plain line per event otherwise, so that stdout carries the report alone.

export interface VerifyProgressView {
  readonly sink: (event: VerifyProgress) => void;
  /** Closes what is still open (parts a lost host never ran) and resolves once drawn. */
  finish(): Promise<void>;
}

export function describeProgress(event: Exclude<VerifyProgress, { kind: 'start' }>): string {
  if (event.kind === 'service') {
    const answers = Object.entries(event.answers).map(([name, count]) => `${name} ${count}`);
    return `service ${event.name}: ${event.answered} of ${event.sent} answered in ${event.seconds.toFixed(1)} s${answers.length > 0 ? ` (${answers.join(', ')})` : ''}`;
  }
  if (event.kind === 'arp') {
    return `ARP ${event.vip}: ${event.status}${event.responders.length > 0 ? ` (answered by ${event.responders.join(', ')})` : ''}`;
  }
  return `${event.host} (${event.role}): unreachable: ${event.message}`;
}

function startLine(event: Extract<VerifyProgress, { kind: 'start' }>): string {
  return `client ${event.client} sends ${event.requests} request(s) to each of ${event.services.length} service(s); ARP checks for ${event.vips.length} VIP(s)`;
}

export function plainVerifyProgress(write: (line: string) => void): VerifyProgressView {
  return {
    sink: (event) => write(`verify: ${event.kind === 'start' ? startLine(event) : describeProgress(event)}`),
    finish: () => Promise.resolve(),
  };
}

export async function listrVerifyProgress(): Promise<VerifyProgressView> {
  const listr2 = await loadListr2();
  const open = new Map<string, { title: (text: string) => void; end: (failed: boolean) => void }>();
  const early: VerifyProgress[] = [];
  let running: Promise<void> = Promise.resolve();
  const keyOf = (event: VerifyProgress): string | undefined => (event.kind === 'service' ? `service ${event.name}` : event.kind === 'arp' ? `ARP ${event.vip}` : undefined);

  const begin = (event: Extract<VerifyProgress, { kind: 'start' }>): void => {
    const keys = [...event.services.map((name) => `service ${name}`), ...event.vips.map((vip) => `ARP ${vip}`)];
    const list = new listr2.Listr(
      keys.map((key) => ({
        title: `${key}: running`,
        task: (_context: unknown, task: { title: string }) =>
          new Promise<void>((resolve, reject) => {
            open.set(key, {
              title: (text) => {
                task.title = text;
              },
              end: (failed) => (failed ? reject(new Error(task.title)) : resolve()),
            });
            for (const waiting of early.splice(0)) deliver(waiting);
          }),
      })),
      stderrListOptions(listr2),
    );
    running = list.run().then(
      () => undefined,
      () => undefined,
    );
  };

  const deliver = (event: VerifyProgress): void => {
    if (event.kind === 'start') return begin(event);
    if (event.kind === 'unreachable') return;
    const key = keyOf(event) as string;
    const target = open.get(key);
    if (!target) {
      early.push(event);
      return;
    }
    open.delete(key);
    target.title(describeProgress(event));
    target.end(event.kind === 'arp' ? event.status === 'fail' || event.status === 'not-run' : event.answered < event.sent);
  };

  return {
    sink: deliver,
    finish: () => {
      for (const [key, target] of open) {
        target.title(`${key}: not run`);
        target.end(true);
      }
      open.clear();
      return running;
    },
  };
}
