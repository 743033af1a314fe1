import { spawnSync } from 'node:child_process';

// A real terminal for the tests: a tmux server of our own (its own socket), one pane running a
// shell command, read back with capture-pane. `-e` keeps the colour escapes.

export class TmuxPane {
  private readonly socket = `lvsprov-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  /** The tmux server's socket name, for keys sent to the pane (`tmux -L NAME send-keys`). */
  get socketName(): string {
    return this.socket;
  }

  constructor(
    private readonly width = 140,
    private readonly height = 40,
  ) {}

  private tmux(...args: string[]): string {
    const result = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  }

  /** Start `command` (a shell command line) in a fresh session; the pane stays after it exits. */
  start(command: string, env: Record<string, string> = {}): void {
    const exports = Object.entries(env).map(([key, value]) => `export ${key}='${value.replace(/'/g, "'\\''")}'; `).join('');
    this.tmux('new-session', '-d', '-s', 'test', '-x', String(this.width), '-y', String(this.height), `${exports}${command}; echo "EXIT=$?"; sleep 600`);
  }

  /** The pane's screen; with `history`, from the first line that scrolled off it. */
  capture(options: { colour?: boolean; history?: boolean } = {}): string {
    return this.tmux('capture-pane', '-p', '-t', 'test', ...(options.colour ? ['-e'] : []), ...(options.history ? ['-S', '-'] : []));
  }

  /** Poll the pane until `pattern` shows (or the timeout passes, which throws with the pane). */
  async waitFor(pattern: RegExp, timeoutMs = 60_000, options: { colour?: boolean; history?: boolean } = {}): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.capture(options);
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in the pane:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  close(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}
