import type Handlebars from 'handlebars';

// A template's {{#each}} blocks nest: four of them over a list of 150 items run 500 million times
// and, printing, fill gigabytes before any check of the result. Each render gets a budget of
// iterations, counted as every {{#each}} starts (an inner one once per outer item), and stops with
// an error at the block that exceeds it: no real configuration comes near it (a director's
// keepalived configuration of 1,000 services of 100 real servers is 100,000).

/** The iterations of {{#each}} blocks one render may run in all. */
export const MAX_EACH_STEPS = 5_000_000;

/** A render stopped by its budget, at the block that went over. */
export class RenderBudgetError extends Error {
  override name = 'RenderBudgetError';

  constructor(
    readonly line: number,
    readonly col: number,
  ) {
    super(`{{#each}} blocks here would run more than ${MAX_EACH_STEPS.toLocaleString('en')} times in all (nested over long lists); loop over less`);
  }
}

let steps = 0;

/** Run one render with a fresh budget. */
export function withBudget<T>(render: () => T): T {
  steps = 0;
  return render();
}

/** Make `engine`'s each count its iterations against the budget of the render running. */
export function budgetEach(engine: typeof Handlebars): void {
  const each = engine.helpers['each'] as Handlebars.HelperDelegate;
  engine.registerHelper('each', function budgeted(this: unknown, context: unknown, options: Handlebars.HelperOptions & { loc?: { start: { line: number; column: number } } }) {
    steps += Array.isArray(context) ? context.length : context !== null && typeof context === 'object' ? Object.keys(context).length : 0;
    if (steps > MAX_EACH_STEPS) throw new RenderBudgetError(options.loc?.start.line ?? 1, (options.loc?.start.column ?? 0) + 1);
    return each.call(this, context, options);
  });
}
