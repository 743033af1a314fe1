import { describe, expect, it } from 'vitest';
import { schemaOf, variableDeclarationSchema } from '../../src/config/variable-types.js';

// A role's `pattern` can be one a backtracking engine takes exponential or polynomial time over;
// validate checks every host's value against it, so the check must stay linear in the value.

describe('a role variable pattern is matched in linear time', () => {
  const values = (unit: string): string => `${unit.repeat(20_000)}!`;
  it.each([
    ['nested quantifiers', '(a+)+b', 'a'],
    ['overlapping alternation under a quantifier', '(a|aa)*b', 'a'],
    ['a quantified group of a starred class', '(\\w*\\d)*x', '1'],
    ['adjacent overlapping stars (polynomial)', '\\d*\\d*\\d*\\d*\\d*x', '1'],
    ['a bounded repeat of a greedy group', '(.*a){20}b', 'a'],
  ])('%s: %s refuses a 20,000-character value at once', (_, pattern, unit) => {
    const declared = variableDeclarationSchema.parse({ type: 'string', pattern });
    const started = performance.now();
    const parsed = schemaOf(declared.kind).safeParse(values(unit));
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toBe(`must match ${pattern}`);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('matches the whole value, as the anchored JavaScript pattern did', () => {
    const kind = variableDeclarationSchema.parse({ type: 'string', pattern: '[a-z]+|[0-9]+' }).kind;
    expect(schemaOf(kind).safeParse('abc').success).toBe(true);
    expect(schemaOf(kind).safeParse('123').success).toBe(true);
    expect(schemaOf(kind).safeParse('abc123').success).toBe(false);
    expect(schemaOf(kind).safeParse('abc\n').success).toBe(false);
  });

  it.each([
    ['a backreference', '(a)\\1'],
    ['a lookahead', 'a(?=b)'],
    ['a lookbehind', '(?<!a)b'],
    ['a repeat count over 1000', 'a{1001}'],
    ['an unclosed group', '(a'],
  ])('refuses %s where the role declares it', (_, pattern) => {
    const parsed = variableDeclarationSchema.safeParse({ type: 'string', pattern });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/^must be a regular expression RE2 can match in linear time \(no backreferences or lookarounds\): \S/);
  });
});
