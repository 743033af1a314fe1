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
 * stream's first failed write on, its output is dropped and the command goes on to its end and
 * its exit code; `outputClosed` tells the commands that only show something that they can stop.
 */
export function processIo(): CliIo {
  const closed = new AbortController();
  return {
    out: lineWriter(process.stdout, () => closed.abort()),
    err: lineWriter(process.stderr),
    isTTY: Boolean(process.stderr.isTTY),
    ask: process.stdin.isTTY ? askOnTerminal : undefined,
    outputClosed: closed.signal,
  };
}

function lineWriter(stream: NodeJS.WriteStream, onGone?: () => void): (line: string) => void {
  let gone = false;
  const giveUp = (): void => {
    if (gone) return;
    gone = true;
    onGone?.();
  };
  // A pipe or a terminal fails later, as an event (also for writes made by others: the progress
  // display writes to stderr itself); a file fails in the write itself.
  stream.on('error', giveUp);
  return (line) => {
    if (gone) return;
    try {
      stream.write(`${line}\n`);
    } catch {
      giveUp();
    }
  };
}
