/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Whether stderr, where progress goes, is an interactive terminal. */
  readonly isTTY: boolean;
  /** Whether stdout, where the report goes, is one (status --watch redraws the screen only there). */
  readonly outIsTTY?: boolean;
  /**
   * Ask a person a question on the terminal; absent when stdin is no terminal (nobody to answer).
   * Ctrl-D answers nothing (''); Ctrl-C resolves to `interrupted`.
   */
  readonly ask?: ((question: string) => Promise<string | typeof interruptedAnswer>) | undefined;
  /** Aborted once stdout has no reader (`lvsprov status --watch | head`): a command that only shows can end. */
  readonly outputClosed?: AbortSignal;
  /** Why stdout lost output someone wanted (not a reader that left), if it did; ask after `flush`. */
  readonly outputFailure?: () => string | undefined;
  /** Resolves once what was written so far has been written, or has failed. */
  readonly flush?: () => Promise<void>;
  /**
   * Resolves once stdout's reader has caught up enough to take more (at once when it has, or
   * when stdout failed): a long output written in pieces waits for it, so that the pieces a slow
   * reader has not taken yet never pile up in memory.
   */
  readonly outDrained?: () => Promise<void>;
}

/** What `ask` resolves to when the person pressed Ctrl-C at the question. */
export const interruptedAnswer = Symbol('interrupted');

async function askOnTerminal(question: string): Promise<string | typeof interruptedAnswer> {
  // readline loads only when there is a question to ask.
  const { createInterface } = await import('node:readline/promises');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  // readline takes the terminal's keys itself: Ctrl-C reaches it as a key (no SIGINT is sent), and
  // it and Ctrl-D on an empty line reject the question with an AbortError.
  const interrupt = new AbortController();
  prompt.on('SIGINT', () => interrupt.abort());
  try {
    return await prompt.question(question, { signal: interrupt.signal });
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
    if (interrupt.signal.aborted) return interruptedAnswer;
    // Ctrl-D leaves the cursor after the question (readline ends the line for Ctrl-C itself).
    process.stderr.write('\n');
    return '';
  } finally {
    prompt.close();
  }
}

/**
 * The process's own stdout and stderr. Their reader may go before the run ends (`lvsprov apply |
 * head`, a full disk under `> log`): node reports the failed write as an 'error' event that would
 * end the process, and an apply stopped half-way by that leaves a cluster half-changed. From a
 * stream's first failed write on, its output is dropped and the command goes on to its end;
 * `outputClosed` tells the commands that only show something that they can stop. A reader that
 * left (EPIPE) is what `| head` means: nothing is said. Any other failure (a full disk) loses
 * output someone wanted: it is said on stderr, and `outputFailure` makes the exit code 1 where the
 * command's own would have been 0.
 */
export function processIo(): CliIo {
  const closed = new AbortController();
  let failure: string | undefined;
  const err = lineWriter(process.stderr, () => undefined).write;
  const stdout = lineWriter(process.stdout, (error) => {
    closed.abort();
    if (error.code === 'EPIPE') return;
    failure = `cannot write to stdout (${error.code ?? error.message}); its output from here on is lost`;
    err(`lvsprov: ${failure}`);
  });
  return {
    out: stdout.write,
    err,
    isTTY: Boolean(process.stderr.isTTY),
    outIsTTY: Boolean(process.stdout.isTTY),
    ask: process.stdin.isTTY ? askOnTerminal : undefined,
    outputClosed: closed.signal,
    outputFailure: () => failure,
    // A write's failure comes as a later event even where the write itself was synchronous: the
    // callback of one more (empty) write runs after it.
    flush: () => new Promise<void>((resolve) => process.stdout.write('', () => resolve())),
    outDrained: stdout.drained,
  };
}

interface LineWriter {
  readonly write: (line: string) => void;
  /** Resolves once the stream wants more (its queue below its high-water mark) or has failed. */
  readonly drained: () => Promise<void>;
}

/**
 * Lines to a stream. A pipe whose reader is slower than the process takes what it has room for,
 * and node queues the rest in memory; `drained` lets a long output wait for the reader.
 */
export function lineWriter(stream: NodeJS.WritableStream & { readonly writableNeedDrain: boolean }, onFailure: (error: NodeJS.ErrnoException) => void): LineWriter {
  let gone = false;
  const giveUp = (error: NodeJS.ErrnoException): void => {
    if (gone) return;
    gone = true;
    onFailure(error);
  };
  // A pipe or a terminal fails later, as an event (also for writes made by others: the progress
  // display writes to stderr itself); a file fails in the write itself.
  stream.on('error', giveUp);
  const write = (line: string): void => {
    if (gone) return;
    try {
      stream.write(`${line}\n`);
    } catch (error) {
      giveUp(error as NodeJS.ErrnoException);
    }
  };
  const drained = (): Promise<void> => {
    if (gone || !stream.writableNeedDrain) return Promise.resolve();
    // A stream that fails or closes while full never drains: either ends the wait too.
    return new Promise<void>((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        stream.off('error', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('error', done);
      stream.on('close', done);
    });
  };
  return { write, drained };
}
