/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Whether stderr, where progress goes, is an interactive terminal. */
  readonly isTTY: boolean;
  /** Ask a person a question on the terminal; absent when stdin is no terminal (nobody to answer). */
  readonly ask?: ((question: string) => Promise<string>) | undefined;
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

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  isTTY: Boolean(process.stderr.isTTY),
  ask: process.stdin.isTTY ? askOnTerminal : undefined,
};
