/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Whether stderr, where progress goes, is an interactive terminal. */
  readonly isTTY: boolean;
  /** Ask a person a question on the terminal; absent when stdin is no terminal (nobody to answer). */
  readonly ask?: ((question: string) => Promise<string>) | undefined;
  /** Aborted once stdout has no reader (`lvsprov status --watch | head`): a command that only shows can end. */
  readonly outputClosed?: AbortSignal;
  /** Why stdout lost output someone wanted (not a reader that left), if it did; ask after `flush`. */
  readonly outputFailure?: () => string | undefined;
  /** Resolves once what was written so far has been written, or has failed. */
  readonly flush?: () => Promise<void>;
}

async function askOnTerminal(question: string): Promise<string> {
  // readline loads only when there is a question to ask.
  const { createInterface } = await import('node:readline/promises');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await prompt.question(question);
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
  const err = lineWriter(process.stderr, () => undefined);
  const out = lineWriter(process.stdout, (error) => {
    closed.abort();
    if (error.code === 'EPIPE') return;
    failure = `cannot write to stdout (${error.code ?? error.message}); its output from here on is lost`;
    err(`lvsprov: ${failure}`);
  });
  return {
    out,
    err,
    isTTY: Boolean(process.stderr.isTTY),
    ask: process.stdin.isTTY ? askOnTerminal : undefined,
    outputClosed: closed.signal,
    outputFailure: () => failure,
    // A write's failure comes as a later event even where the write itself was synchronous: the
    // callback of one more (empty) write runs after it.
    flush: () => new Promise<void>((resolve) => process.stdout.write('', () => resolve())),
  };
}

function lineWriter(stream: NodeJS.WriteStream, onFailure: (error: NodeJS.ErrnoException) => void): (line: string) => void {
  let gone = false;
  const giveUp = (error: NodeJS.ErrnoException): void => {
    if (gone) return;
    gone = true;
    onFailure(error);
  };
  // A pipe or a terminal fails later, as an event (also for writes made by others: the progress
  // display writes to stderr itself); a file fails in the write itself.
  stream.on('error', giveUp);
  return (line) => {
    if (gone) return;
    try {
      stream.write(`${line}\n`);
    } catch (error) {
      giveUp(error as NodeJS.ErrnoException);
    }
  };
}
