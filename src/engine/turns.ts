import type { PlannedChange } from './events.js';

// Some starts must not happen on two hosts at once: a session store starts empty and copies the
// sessions its peers hold, so two stores restarting together would each copy from an empty peer
// and every session would be gone. A change that names a turn (Change.turn) makes its host's exec
// of that wave wait for the host before it with the same turn, and a host whose turn failed holds
// back the hosts after it: its store may be empty or down, and the next restart could leave the
// data on no host at all.

/** The turns a host's changes of one wave take, sorted, each once. */
export function turnsOf(changes: readonly PlannedChange[]): string[] {
  return [...new Set(changes.flatMap((change) => (change.turn !== undefined ? [change.turn] : [])))].sort();
}

export type TurnOutcome = 'ok' | 'failed';

/** The turns of one wave: first come, first served, one host at a time per turn. */
export class WaveTurns {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly failedBy = new Map<string, string>();

  /**
   * Runs `body` once `host` holds every turn in `names` (taken in sorted order, so two hosts
   * never wait for each other), or calls `heldBack` instead when a host before it in one of those
   * turns failed. Without turns, `body` runs at once.
   */
  async run(host: string, names: readonly string[], body: () => Promise<TurnOutcome>, heldBack: (reason: string) => void): Promise<void> {
    const turns = [...new Set(names)].sort();
    if (turns.length === 0) {
      await body();
      return;
    }
    const releases: Array<() => void> = [];
    try {
      for (const turn of turns) {
        const before = this.tails.get(turn) ?? Promise.resolve();
        let release!: () => void;
        const mine = new Promise<void>((resolve) => (release = resolve));
        this.tails.set(turn, before.then(() => mine));
        releases.push(release);
        await before;
      }
      const failed = turns.find((turn) => this.failedBy.has(turn));
      if (failed !== undefined) {
        heldBack(`${this.failedBy.get(failed)} failed in its turn (${failed}) before this host's: its service may hold nothing or not run, and starting this one too could leave what they hold on no host`);
        return;
      }
      if ((await body()) === 'failed') for (const turn of turns) this.failedBy.set(turn, host);
    } finally {
      for (const release of releases) release();
    }
  }
}
