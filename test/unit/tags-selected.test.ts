import { describe, expect, it } from 'vitest';
import { tagsSelected } from '../../src/config/compile.js';

// --tags and --skip-tags as Ansible reads them: `always` runs unless skipped by name, `never`
// only when --tags names it or another of the task's tags.

describe('which tagged tasks run', () => {
  it.each([
    [['web'], {}, true],
    [['web'], { only: ['db'] }, false],
    [['web'], { only: ['web'] }, true],
    [['web'], { skip: ['web'] }, false],
    [['always'], { only: ['db'] }, true],
    [['always'], { skip: ['always'] }, false],
    [['never'], {}, false],
    [['never', 'debug'], {}, false],
    [['never', 'debug'], { only: ['debug'] }, true],
    [['never', 'debug'], { only: ['never'] }, true],
    [['never', 'debug'], { only: ['web'] }, false],
    [['never', 'debug'], { only: ['debug'], skip: ['debug'] }, false],
    [['never', 'always'], {}, false],
  ] as const)('%j under %j: %s', (tags, selection, runs) => {
    expect(tagsSelected(tags, selection)).toBe(runs);
  });
});
