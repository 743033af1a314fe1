import type { DefaultRenderer } from 'listr2';
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
});
