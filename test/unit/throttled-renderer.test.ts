import { DefaultRenderer } from 'listr2';
import { describe, expect, it } from 'vitest';
import { throttledRenderer } from '../../src/cli/throttled-renderer.js';

// listr2 asks its renderer to draw on every change of every task; the throttled one draws at
// most once per interval, and its end draws the final state at once. Counted on a stand-in for
// listr2's DefaultRenderer that records its draws.

class CountingRenderer {
  static draws: string[] = [];
  update(): void {
    CountingRenderer.draws.push('draw');
  }
  end(): void {
    CountingRenderer.draws.push('end');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the throttled list renderer', () => {
  it('draws the first change at once, the many after it once at the end of the interval, and ends at once', async () => {
    CountingRenderer.draws = [];
    const Renderer = throttledRenderer(CountingRenderer as unknown as typeof DefaultRenderer, 100);
    const renderer = new Renderer([], {}, undefined as never);
    for (let change = 0; change < 1000; change++) renderer.update();
    expect(CountingRenderer.draws).toEqual(['draw']);
    await sleep(160);
    expect(CountingRenderer.draws).toEqual(['draw', 'draw']);
    renderer.update();
    renderer.update();
    renderer.end();
    await sleep(160);
    // The change pending at the end is drawn by end itself, never after it.
    expect(CountingRenderer.draws).toEqual(['draw', 'draw', 'end']);
  });

  it("wraps lines at stderr's width, where it draws, not at stdout's (80 when stdout is a file)", async () => {
    const Renderer = throttledRenderer(DefaultRenderer, 100);
    const renderer = new Renderer([], {}, undefined as never) as unknown as { format(message: string, icon: string, level: number): string[]; wrap: unknown };
    // What render() loads before its first draw.
    renderer.wrap = (await import('wrap-ansi')).default;
    const reason = `h2: ${'a reason that goes on '.repeat(6)}end`;
    const saved = { stdout: Object.getOwnPropertyDescriptor(process.stdout, 'columns'), stderr: Object.getOwnPropertyDescriptor(process.stderr, 'columns') };
    try {
      Reflect.deleteProperty(process.stdout, 'columns');
      Object.defineProperty(process.stderr, 'columns', { value: 200, configurable: true, writable: true });
      expect(renderer.format(reason, '›', 0)).toEqual([`› ${reason}`]);
      expect(process.stdout.columns).toBeUndefined();
      Object.defineProperty(process.stderr, 'columns', { value: 60, configurable: true, writable: true });
      const narrow = renderer.format(reason, '›', 0);
      expect(narrow.length).toBeGreaterThan(2);
      for (const line of narrow) expect(line.length).toBeLessThanOrEqual(60);
      // A terminal nobody gave a size (`script -c 'lvsprov apply ...' log`, `docker exec -t`
      // before its resize) says 0 columns: drawn 80 wide, as a width nobody knows, not one
      // character per line.
      Object.defineProperty(process.stderr, 'columns', { value: 0, configurable: true, writable: true });
      const unsized = renderer.format(reason, '›', 0);
      expect(unsized.length).toBe(2);
      expect(Math.max(...unsized.map((line) => line.length))).toBeGreaterThan(60);
      for (const line of unsized) expect(line.length).toBeLessThanOrEqual(80);
    } finally {
      for (const [name, descriptor] of Object.entries(saved)) {
        const stream = name === 'stdout' ? process.stdout : process.stderr;
        if (descriptor) Object.defineProperty(stream, 'columns', descriptor);
        else Reflect.deleteProperty(stream, 'columns');
      }
    }
  });
});
