import { describe, expect, it } from 'vitest';
import { playbookCommand } from '../../src/cli/playbook-command.js';

// -v counts, as Ansible users expect: each level adds to the one before (see playbook-run.ts).

function verbosity(...args: string[]): unknown {
  const command = playbookCommand('apply', 'test').exitOverride().action(() => undefined);
  command.parse(['-i', 'inventory.yaml', ...args], { from: 'user' });
  return command.opts().verbose;
}

describe('apply -v', () => {
  it.each([
    [[], 0],
    [['-v'], 1],
    [['-vv'], 2],
    [['-vvv'], 3],
    [['-v', '-v'], 2],
    [['--verbose', '-vv'], 3],
    [['-Cvv'], 2],
  ])('%j counts %d', (args, level) => {
    expect(verbosity(...args)).toBe(level);
  });
});
