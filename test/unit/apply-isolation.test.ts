import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyScript, parseSections } from '../../src/engine/batch-script.js';
import { readsBeforeSet } from '../support/shell-variables.js';

// The changes of an apply script run one after another in the script's own shell (batch-script.ts):
// a variable one change leaves is there for the next, and an exit ends the script. That is safe
// while every change sets each variable before it reads it and exits only to fail. Held here for
// the commands of every change the resource fixtures plan (apply and reset), and the protocol
// itself is run in dash: statuses, stderr, and nothing after a failure.

interface FixtureChange {
  readonly commands: readonly string[];
}

function fixtureChanges(): Array<{ where: string; commands: readonly string[] }> {
  const root = join(import.meta.dirname, '../fixtures/resources');
  return readdirSync(root).flatMap((type) =>
    readdirSync(join(root, type))
      .filter((file) => file.endsWith('.json'))
      .flatMap((file) => {
        const fixture = JSON.parse(readFileSync(join(root, type, file), 'utf8')) as { changes?: FixtureChange[]; reset?: { changes: FixtureChange[] } };
        return [...(fixture.changes ?? []), ...(fixture.reset?.changes ?? [])].map((change) => ({ where: `${type}/${file}`, commands: change.commands }));
      }),
  );
}

const run = (script: string) => {
  const result = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8' });
  return { stdout: result.stdout, code: result.status };
};

describe('changes that share the apply script shell', () => {
  const changes = fixtureChanges();

  it('are many: every change the fixtures plan', () => {
    expect(changes.length).toBeGreaterThan(150);
  });

  it('set every variable before they read it', () => {
    const offenders = changes.flatMap(({ where, commands }) => readsBeforeSet(commands.join('\n')).map((name) => `${name} in ${where}: ${commands.join('; ').slice(0, 120)}`));
    expect(offenders).toEqual([]);
  });

  it('exit only to fail', () => {
    // Single-quoted words are data (a file's content written by printf may say `exit 0`).
    expect(changes.filter(({ commands }) => /\bexit 0\b/.test(commands.join('\n').replace(/'[^']*'/g, "''"))).map(({ where }) => where)).toEqual([]);
  });

  it("a background job a change starts (a director's gratuitous ARP, a second later) holds neither the exec's output nor the host lock", () => {
    const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/resources/address/director-vip-added-is-announced.json'), 'utf8')) as { changes: FixtureChange[] };
    const announce = fixture.changes.find((change) => change.commands.some((command) => command.includes('arping')));
    expect(announce).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'lvsprov-lock-'));
    const lock = join(dir, 'run.lock');
    try {
      // The host's lock on descriptor 9, as the run's shell holds it; `arping` stands in where the machine has none.
      const prelude = `exec 9>>${lock}; flock -n 9 || exit 9\ncommand -v arping >/dev/null 2>&1 || arping() { :; }`;
      // spawnSync returns once the script's output closes: as an exec over SSH ends, at once
      // unless a process the script left keeps a copy of it (the job sleeps a second first).
      const started = Date.now();
      const result = spawnSync('dash', ['-s'], { input: applyScript('n0nce', [announce?.commands ?? []], prelude), encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      expect(Date.now() - started).toBeLessThan(800);
      expect(spawnSync('flock', ['-n', lock, 'true']).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a change that exits with a status ends the script with it, its marker printed', () => {
    const { stdout, code } = run(applyScript('n0nce', [['echo one'], ['echo two; exit 3'], ['echo never']]));
    expect(code).toBe(3);
    expect([...parseSections('n0nce', stdout).entries()]).toEqual([
      [0, { stdout: 'one\n', status: 0 }],
      [1, { stdout: 'two\n', status: 3 }],
    ]);
  });

  it('a failure that set -e lets pass as the last word of a change still fails the change', () => {
    const { stdout, code } = run(applyScript('n0nce', [['echo a', 'false && true'], ['echo never']]));
    expect(code).not.toBe(0);
    const sections = parseSections('n0nce', stdout);
    expect(sections.get(0)?.status).not.toBe(0);
    expect(sections.has(1)).toBe(false);
  });

  it('what a change leaves in the shell does not change the next: set -e and the trap are off between changes', () => {
    const { stdout, code } = run(applyScript('n0nce', [['x=1'], ['false || echo recovered'], ['echo "$x"']]));
    expect(code).toBe(0);
    expect([...parseSections('n0nce', stdout).values()]).toEqual([
      { stdout: '', status: 0 },
      { stdout: 'recovered\n', status: 0 },
      // A variable does reach the next change: why the rule above holds every change to set its own.
      { stdout: '1\n', status: 0 },
    ]);
    expect(stdout.match(/>>>n0nce \d+ \d+/g)).toHaveLength(3);
  });
});
