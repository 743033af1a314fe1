import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { applyScript, newNonce, parseSections, readScript, unfinishedSection } from '../../src/engine/batch-script.js';

// The batch scripts run through a real /bin/sh here, exactly as they run through `sh -s` on a host.

function runSh(script: string): { stdout: string; code: number } {
  const result = spawnSync('/bin/sh', ['-s'], { input: script, encoding: 'utf8' });
  return { stdout: result.stdout, code: result.status ?? -1 };
}

describe('read script', () => {
  it('returns each probe its own stdout and exit status, whatever the others print or do', () => {
    const nonce = newNonce();
    const probes = [
      "printf 'one\\ntwo\\n'",
      "printf 'no trailing newline'",
      'exit 3',
      // Output that imitates a marker of another run and of this run's format must not confuse the parser.
      "printf '<<<deadbeef 0\\n>>>deadbeef 0 0\\n'; printf '%s\\n' '>>> 1 0'",
      'echo to-stderr >&2; true',
      "printf ''",
    ];
    const { stdout, code } = runSh(readScript(nonce, probes));
    expect(code).toBe(0);
    const sections = parseSections(nonce, stdout);
    expect([...sections.entries()]).toEqual([
      [0, { stdout: 'one\ntwo\n', status: 0 }],
      [1, { stdout: 'no trailing newline', status: 0 }],
      [2, { stdout: '', status: 3 }],
      [3, { stdout: '<<<deadbeef 0\n>>>deadbeef 0 0\n>>> 1 0\n', status: 0 }],
      [4, { stdout: '', status: 0 }],
      [5, { stdout: '', status: 0 }],
    ]);
  });

  it('uses a fresh nonce each run', () => {
    expect(newNonce()).not.toBe(newNonce());
    expect(newNonce()).toMatch(/^[0-9a-f]{18}$/);
  });
});

describe('apply script', () => {
  it('runs every change in order when all succeed', () => {
    const nonce = newNonce();
    const { stdout, code } = runSh(applyScript(nonce, [['echo a'], ['echo b', 'echo c']]));
    expect(code).toBe(0);
    expect([...parseSections(nonce, stdout).values()]).toEqual([
      { stdout: 'a\n', status: 0 },
      { stdout: 'b\nc\n', status: 0 },
    ]);
  });

  it('stops at the first failing command: later commands of that change and later changes never run', () => {
    const nonce = newNonce();
    const { stdout, code } = runSh(applyScript(nonce, [['echo first'], ['echo before', 'echo oops >&2; false', 'echo after'], ['echo never']]));
    expect(code).toBe(1);
    const sections = parseSections(nonce, stdout);
    expect(sections.get(0)).toEqual({ stdout: 'first\n', status: 0 });
    // stderr is folded into the failing change's output so the user sees why it failed.
    expect(sections.get(1)).toEqual({ stdout: 'before\noops\n', status: 1 });
    expect(sections.has(2)).toBe(false);
    expect(stdout).not.toContain('after');
    expect(stdout).not.toContain('never');
  });

  it('reports the output of a change whose script died inside it', () => {
    const nonce = newNonce();
    const output = `<<<${nonce} 0\nhalf`;
    expect(unfinishedSection(nonce, output, 0)).toBe('half');
    expect(parseSections(nonce, output).size).toBe(0);
  });
});
