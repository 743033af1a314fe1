import type { DefaultRenderer } from 'listr2';

// listr2's default renderer draws the whole list again on every change of any task (and on every
// frame of its spinner), measuring each line's width character by character: a 50-host re-run
// on a terminal spent 4.8 s of CPU drawing (5.6 s of user time against 0.8 with the output in a
// pipe) and took twice as long, and the cost grows with hosts times changes. Drawn at most every
// `intervalMs` instead, the list costs a few draws a second whatever happens between them; the
// final state is drawn by `end`, at once.
//
// listr2 also wraps each line at the width of stdout, though this list is drawn on stderr: with
// stdout sent to a file (`apply --json > run.json`) a failed host's reason broke at 80 columns on a
// terminal of 200. Lines are measured against stderr's width here.

type DefaultRendererClass = typeof DefaultRenderer;

/** listr2's width where stdout has none. */
const undefinedWidth = 80;

/** A DefaultRenderer (listr2's, loaded by the caller) that draws at most once per `intervalMs`. */
export function throttledRenderer(Base: DefaultRendererClass, intervalMs: number): DefaultRendererClass {
  return class ThrottledRenderer extends Base {
    private pending: NodeJS.Timeout | undefined;
    private drawnAt = -Infinity;

    override update(): void {
      if (this.pending) return;
      const wait = this.drawnAt + intervalMs - performance.now();
      if (wait <= 0) {
        this.draw();
        return;
      }
      this.pending = setTimeout(() => {
        this.pending = undefined;
        this.draw();
      }, wait);
    }

    override end(): void {
      clearTimeout(this.pending);
      this.pending = undefined;
      super.end();
    }

    protected override format(message: string, icon: string, level: number): string[] {
      // A terminal nobody gave a size (`script`, `docker exec -t` before its resize) says 0
      // columns; listr2 would wrap every character onto a line of its own. 80, as for no width.
      return withStdoutColumns(process.stderr.columns || undefinedWidth, () => super.format(message, icon, level));
    }

    private draw(): void {
      this.drawnAt = performance.now();
      super.update();
    }
  };
}

/**
 * Runs `measure` (synchronous) with process.stdout.columns reading `columns`, which listr2's
 * DefaultRenderer#format reads for the width; puts it back after. Nothing else runs in between.
 */
function withStdoutColumns<T>(columns: number | undefined, measure: () => T): T {
  const stdout = process.stdout;
  if (columns === undefined || stdout.columns === columns) return measure();
  const own = Object.getOwnPropertyDescriptor(stdout, 'columns');
  Object.defineProperty(stdout, 'columns', { value: columns, configurable: true, writable: true });
  try {
    return measure();
  } finally {
    if (own) Object.defineProperty(stdout, 'columns', own);
    else Reflect.deleteProperty(stdout, 'columns');
  }
}
