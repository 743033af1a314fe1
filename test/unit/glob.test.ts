import { describe, expect, it } from 'vitest';
import { globMatches } from '../../src/glob.js';

// Globs of --limit, ssh_config Host/Match lines and known_hosts patterns: `*` and `?` as the shell.

describe('globMatches', () => {
  it.each([
    ['rs*', 'rs10', true],
    ['rs*', 'r', false],
    ['*', '', true],
    ['', '', true],
    ['', 'a', false],
    ['r?1', 'rs1', true],
    ['r?1', 'r1', false],
    ['*s*', 'lvs1', true],
    ['*1', 'rs10', false],
    ['*1*0', 'rs10', true],
    ['a*b*c', 'abxbxc', true],
    ['a*b*c', 'abxbxcx', false],
    ['**a', 'ba', true],
    ['*.lab', 'web1.lab', true],
    ['*.lab', 'web1xlab', false],
  ])('glob %j matches %j: %s', (glob, name, expected) => {
    expect(globMatches(glob, name)).toBe(expected);
  });

  it('ignores case when asked, as ssh_config Match and known_hosts do', () => {
    expect(globMatches('WEB*', 'web1', true)).toBe(true);
    expect(globMatches('WEB*', 'web1')).toBe(false);
  });

  it('takes steps bounded by glob x name length, where a RegExp backtracked', () => {
    const started = performance.now();
    expect(globMatches(`${'*a'.repeat(40)}*b`, 'a'.repeat(250), true)).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
