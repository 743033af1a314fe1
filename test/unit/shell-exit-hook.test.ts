import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { applyScript, newNonce } from '../../src/engine/batch-script.js';
import { drainScript } from '../../src/engine/drain-script.js';
import { SHELL_EXIT_HOOK } from '../../src/shell/exit-hook.js';

// The session's shell runs its exit hook (the host lock's release) as it exits, after whatever
// the run sent it: the apply script's own EXIT trap, set for each change, must not lose it.

function shellWith(...scripts: string[]): { stdout: string; status: number | null } {
  const hook = `${SHELL_EXIT_HOOK}=at_exit; at_exit() { echo hook-ran; }; trap "$${SHELL_EXIT_HOOK}" EXIT`;
  const run = spawnSync('/bin/sh', ['-s'], { input: [hook, ...scripts].join('\n'), encoding: 'utf8' });
  return { stdout: run.stdout, status: run.status };
}

describe('the shell exit hook', () => {
  it('runs once at the end after apply scripts whose changes all succeeded', () => {
    const nonce = newNonce();
    const { stdout, status } = shellWith(applyScript(nonce, [['echo one'], ['echo two']]), 'echo after');
    expect(status).toBe(0);
    expect(stdout.match(/hook-ran/g)).toEqual(['hook-ran']);
    expect(stdout.trimEnd().endsWith('after\nhook-ran')).toBe(true);
  });

  it('runs when a failing change ends the shell, after the change closed its output, and keeps its status', () => {
    const nonce = newNonce();
    const { stdout, status } = shellWith(applyScript(nonce, [['echo one'], ['false'], ['echo never']]), 'echo never-after');
    expect(status).toBe(1);
    expect(stdout).toContain(`>>>${nonce} 1 1\nhook-ran`);
    expect(stdout).not.toContain('never');
  });

  it('does not run after a drain poll, which leaves the shell (and the lock) to the waves after it', () => {
    const { stdout, status } = shellWith(drainScript([], 5), 'echo next-wave');
    expect(status).toBe(0);
    expect(stdout).toMatch(/^drained \d+ 1 *\nnext-wave\nhook-ran\n$/);
  });

  it('runs when a change exits the shell itself', () => {
    const nonce = newNonce();
    const { stdout, status } = shellWith(applyScript(nonce, [['exit 7']]));
    expect(status).toBe(7);
    expect(stdout).toContain(`>>>${nonce} 0 7\nhook-ran`);
  });
});
