import { describe, expect, it } from 'vitest';
import { colourWanted } from '../../src/cli/colour.js';

// When the recap is coloured: no-color.org for NO_COLOR (a value, not merely present), Node's
// getColorDepth for FORCE_COLOR, and otherwise a terminal whose TERM can show colour.

describe('colourWanted', () => {
  it('follows no-color.org, FORCE_COLOR as Node reads it, TERM and whether stdout is a terminal', () => {
    const cases: Array<[NodeJS.ProcessEnv, boolean, boolean]> = [
      [{ TERM: 'xterm' }, true, true],
      [{ TERM: 'xterm' }, false, false],
      [{ TERM: 'dumb' }, true, false],
      [{ TERM: '' }, true, false],
      [{}, true, false],
      // NO_COLOR: only a non-empty value turns colour off.
      [{ TERM: 'xterm', NO_COLOR: '1' }, true, false],
      [{ TERM: 'xterm', NO_COLOR: '0' }, true, false],
      [{ TERM: 'xterm', NO_COLOR: '' }, true, true],
      [{ TERM: 'xterm', NO_COLOR: '' }, false, false],
      // FORCE_COLOR: '', 1, 2, 3, true on (also redirected, also with TERM=dumb); anything else off.
      [{ FORCE_COLOR: '1' }, false, true],
      [{ FORCE_COLOR: '' }, false, true],
      [{ FORCE_COLOR: '3', TERM: 'dumb' }, false, true],
      [{ FORCE_COLOR: 'true' }, false, true],
      [{ FORCE_COLOR: '0', TERM: 'xterm' }, true, false],
      [{ FORCE_COLOR: 'false', TERM: 'xterm' }, true, false],
      [{ FORCE_COLOR: 'no', TERM: 'xterm' }, true, false],
      // A NO_COLOR with a value wins; an empty one leaves FORCE_COLOR to decide.
      [{ FORCE_COLOR: '1', NO_COLOR: '1' }, true, false],
      [{ FORCE_COLOR: '1', NO_COLOR: '' }, false, true],
    ];
    for (const [env, tty, wanted] of cases) expect(colourWanted(env, tty), `${JSON.stringify(env)} tty=${tty}`).toBe(wanted);
  });
});
