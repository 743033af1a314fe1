import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { failedMarker, readyMarker } from './markers.js';

// qemu writes the guest's serial console to a file (qemu-args.ts), which outlives the process
// that started qemu and serves post-mortems. Boot is watched by polling that file line by line
// for the guest init's readiness or failure line.

const tailLimit = 16_384;
const pollMs = 100;

export type BootOutcome =
  | { readonly kind: 'ready'; readonly line: string }
  | { readonly kind: 'failed'; readonly line: string }
  | { readonly kind: 'exited'; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  | { readonly kind: 'timeout' };

/** The last `bytes` of a file as text; empty when it does not exist (yet). */
export function fileTail(file: string, bytes = tailLimit): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = statSync(file).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export class SerialConsole {
  private offset = 0;
  private partial = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly outcome: Promise<BootOutcome>;

  /** `exited` resolves when qemu exits, so a qemu that dies early ends the wait at once. */
  constructor(
    private readonly logFile: string,
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
    timeoutMs: number,
  ) {
    this.outcome = new Promise((resolve) => {
      let settled = false;
      const deadline = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
      const settle = (outcome: BootOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        clearInterval(this.timer);
        resolve(outcome);
      };
      this.timer = setInterval(() => {
        for (const line of this.newLines()) {
          if (line.includes(readyMarker)) settle({ kind: 'ready', line: line.trim() });
          if (line.includes(failedMarker)) settle({ kind: 'failed', line: line.trim() });
        }
      }, pollMs);
      // A last read first: the readiness line may be written just before a quick exit.
      void exited.then(({ code, signal }) => {
        const last = this.newLines().find((line) => line.includes(failedMarker));
        settle(last ? { kind: 'failed', line: last.trim() } : { kind: 'exited', code, signal });
      });
    });
  }

  /** The first of: readiness line, failure line, qemu exit, timeout. */
  waitForBoot(): Promise<BootOutcome> {
    return this.outcome;
  }

  /** The last part of the console, for error messages. */
  tail(): string {
    return fileTail(this.logFile);
  }

  close(): void {
    clearInterval(this.timer);
  }

  private newLines(): string[] {
    let fd: number;
    try {
      fd = openSync(this.logFile, 'r');
    } catch {
      return [];
    }
    const chunks: Buffer[] = [];
    try {
      const buffer = Buffer.alloc(65_536);
      for (;;) {
        const read = readSync(fd, buffer, 0, buffer.length, this.offset);
        if (read === 0) break;
        this.offset += read;
        chunks.push(Buffer.from(buffer.subarray(0, read)));
      }
    } finally {
      closeSync(fd);
    }
    const lines = (this.partial + Buffer.concat(chunks).toString('utf8')).split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    return lines;
  }
}
