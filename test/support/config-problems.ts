import { ConfigError, formatProblem } from '../../src/errors.js';

/** The formatted problems of the ConfigError `action` throws; fails when it accepts the input or throws anything else. */
export function problemsOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map(formatProblem);
    throw error;
  }
  throw new Error('expected a ConfigError, but the input was accepted');
}
