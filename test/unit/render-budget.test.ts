import { describe, expect, it } from 'vitest';
import { renderString } from '../../src/config/render.js';
import { MAX_EACH_STEPS, RenderBudgetError } from '../../src/config/render-budget.js';

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
