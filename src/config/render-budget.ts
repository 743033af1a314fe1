import type Handlebars from 'handlebars';

// A template's {{#each}} blocks nest: four of them over a list of 150 items run 500 million times
// and, printing, fill gigabytes before any check of the result. Each render gets a budget of
// iterations, counted as every {{#each}} starts (an inner one once per outer item), and stops with
// an error at the block that exceeds it: no real configuration comes near it (a director's
// keepalived configuration of 1,000 services of 100 real servers is 100,000).

/** The iterations of {{#each}} blocks one render may run in all. */
export const MAX_EACH_STEPS = 5_000_000;

/**
 * The text {{#each}} blocks of one render may write, counted as each block returns (an inner
 * block's text again in its outer one's): far below the half a gigabyte a string may hold, which
 * a few short nested loops reach within the iteration budget.
 */
export const MAX_EACH_TEXT = 64 * 1024 * 1024;

/**
 * The iterations of {{#each}} blocks of a whole run, every render of every host: a template within
 * its own budget rendered for each item of a loop and each of a thousand hosts would otherwise run
 * for hours.
 */
export const MAX_RUN_EACH_STEPS = 20_000_000;

/** A render stopped by its budget, at the block that went over. */
export class RenderBudgetError extends Error {
  override name = 'RenderBudgetError';

  constructor(
    readonly line: number,
    readonly col: number,
    message = `{{#each}} blocks here would run more than ${MAX_EACH_STEPS.toLocaleString('en')} times in all (nested over long lists); loop over less`,
  ) {
    super(message);
  }
}

let steps = 0;
let text = 0;
let runSteps = 0;

/** A new run (a compile): its renders start from a fresh run budget. */
export function startRunBudget(): void {
  runSteps = 0;
}

/** Run one render with a fresh budget. */
export function withBudget<T>(render: () => T): T {
  steps = 0;
  text = 0;
  return render();
}

/** Make `engine`'s each count its iterations and text against the budgets of the render running and of the run. */
export function budgetEach(engine: typeof Handlebars): void {
  const each = engine.helpers['each'] as Handlebars.HelperDelegate;
  engine.registerHelper('each', function budgeted(this: unknown, context: unknown, options: Handlebars.HelperOptions & { loc?: { start: { line: number; column: number } } }) {
    const line = options.loc?.start.line ?? 1;
    const col = (options.loc?.start.column ?? 0) + 1;
    const count = Array.isArray(context) ? context.length : context !== null && typeof context === 'object' ? Object.keys(context).length : 0;
    steps += count;
    runSteps += count;
    if (steps > MAX_EACH_STEPS) throw new RenderBudgetError(line, col);
    if (runSteps > MAX_RUN_EACH_STEPS) {
      throw new RenderBudgetError(line, col, `{{#each}} blocks here would run more than ${MAX_RUN_EACH_STEPS.toLocaleString('en')} times over the run's renders (the template rendered for every host and loop item); loop over less`);
    }
    const written: unknown = each.call(this, context, options);
    text += typeof written === 'string' ? written.length : 0;
    if (text > MAX_EACH_TEXT) throw new RenderBudgetError(line, col, `{{#each}} blocks here would write more than ${MAX_EACH_TEXT / 1024 / 1024} MB of text (nested over long lists); loop over less`);
    return written;
  });
}
