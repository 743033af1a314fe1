import { describe, expect, it } from 'vitest';
import { renderString } from '../../src/config/render.js';
import { MAX_EACH_STEPS, MAX_EACH_TEXT, MAX_RUN_EACH_STEPS, RenderBudgetError, startRunBudget } from '../../src/config/render-budget.js';

// Nested {{#each}} blocks over long lists multiply: a task value stops at the render budget with an
// error instead of running for minutes and filling the memory; one within it renders whole.

const names = Array.from({ length: 100 }, (_, i) => `n${i}`);
const nested = (depth: number): string => `${'{{#each @root.names}}'.repeat(depth)}x${'{{/each}}'.repeat(depth)}`;

describe('the render budget of a task value', () => {
  it(`stops four each blocks nested over 100 items (100 million iterations) past ${MAX_EACH_STEPS}`, () => {
    const started = Date.now();
    expect(() => renderString(nested(4), { names })).toThrow(RenderBudgetError);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('renders three nested over 100 items (about a million) whole, and a later render gets a fresh budget', () => {
    expect(renderString(nested(3), { names })).toHaveLength(1_000_000);
    expect(renderString(nested(3), { names })).toHaveLength(1_000_000);
  });
});

describe('the text and run budgets', () => {
  it(`stops nested blocks that would write more than ${MAX_EACH_TEXT / 1024 / 1024} MB, within the iteration budget, with an error instead of a string too long for V8`, () => {
    startRunBudget();
    // 170^3 = 4.9 million iterations (within the budget) of 120 characters: 590 MB of text.
    const items = Array.from({ length: 170 }, (_, i) => i);
    const wide = `{{#each @root.items}}{{#each @root.items}}{{#each @root.items}}${'x'.repeat(120)}{{/each}}{{/each}}{{/each}}`;
    let caught: unknown;
    try {
      renderString(wide, { items });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RenderBudgetError);
    expect((caught as Error).message).toMatch(/would write more than 64 MB of text/);
  });

  it(`stops the renders of one run past ${MAX_RUN_EACH_STEPS} iterations in all, each within its own budget; a new run starts afresh`, () => {
    startRunBudget();
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const template = '{{#each @root.items}}{{#each @root.items}}y{{/each}}{{/each}}'; // a million a render
    const renders = MAX_RUN_EACH_STEPS / (1000 * 1001);
    for (let render = 0; render < Math.floor(renders); render += 1) renderString(template, { items });
    expect(() => renderString(template, { items })).toThrow(/over the run's renders/);
    startRunBudget();
    expect(renderString(template, { items })).toHaveLength(1_000_000);
  });
});

