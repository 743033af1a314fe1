import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { failedMarker, readyMarker } from './markers.js';

// qemu's stdout is the guest's serial console. It is copied to a log file for post-mortems and
// scanned line by line for the guest init's readiness or failure line.

const tailLimit = 16_384;

export type BootOutcome =
  | { readonly kind: 'ready'; readonly line: string }
  | { readonly kind: 'failed'; readonly line: string }
  | { readonly kind: 'exited'; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  | { readonly kind: 'timeout' };

export class SerialConsole {
  private tailText = '';
  private partial = '';
  private readonly log: WriteStream;
  private readonly outcome: Promise<BootOutcome>;

  constructor(child: ChildProcessWithoutNullStreams, logFile: string, timeoutMs: number) {
    this.log = createWriteStream(logFile);
    this.log.on('error', () => undefined);
    this.outcome = new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
      const settle = (outcome: BootOutcome): void => {
        clearTimeout(timer);
        resolve(outcome);
      };
      const onData = (chunk: Buffer): void => {
        const text = chunk.toString('utf8');
        this.log.write(chunk);
        this.tailText = (this.tailText + text).slice(-tailLimit);
        const lines = (this.partial + text).split(/\r?\n/);
        this.partial = lines.pop() ?? '';
        for (const line of lines) {
          if (line.includes(readyMarker)) settle({ kind: 'ready', line: line.trim() });
          if (line.includes(failedMarker)) settle({ kind: 'failed', line: line.trim() });
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code, signal) => settle({ kind: 'exited', code, signal }));
    });
  }

  /** The first of: readiness line, failure line, qemu exit, timeout. */
  waitForBoot(): Promise<BootOutcome> {
    return this.outcome;
  }

  /** The last part of the console, for error messages. */
  tail(): string {
    return this.tailText;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.log.end(resolve));
  }
}
