import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { watchInterrupts } from '../../src/cli/interrupts.js';
import type { CompiledTask } from '../../src/config/compile.js';
import type { HostResult } from '../../src/engine/events.js';
import type { HostRunOptions } from '../../src/engine/host-run.js';
import { runHost } from '../../src/engine/run.js';
import { ConnectionLostError } from '../../src/errors.js';
import { renderRecap } from '../../src/report/recap.js';
import type { ExecResult } from '../../src/transport/types.js';
import { LocalSession, type LocalSessionHooks } from '../support/local-session.js';

// The engine's side of interrupts and lost connections, with a session that runs the real read and
// apply scripts through the local /bin/sh on files in a temporary directory: which execs run, which
// signal each gets, and what the result says about each change.

const dir = mkdtempSync(join(tmpdir(), 'lvsprov-cancel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let hostCount = 0;
function fileTasks(): { tasks: CompiledTask[]; paths: string[] } {
  hostCount += 1;
  const paths = ['a', 'b', 'c'].map((name) => join(dir, `h${hostCount}-${name}`));
  return { paths, tasks: paths.map((path, index) => ({ name: `file ${index}`, type: 'file', spec: { path, content: `${index}\n`, mode: '644', state: 'present' } })) };
}

async function run(hooks: LocalSessionHooks, options: Partial<HostRunOptions> = {}): Promise<{ result: HostResult; session: LocalSession; paths: string[] }> {
  const { tasks, paths } = fileTasks();
  const session = new LocalSession(hooks);
  const result = await runHost('h', tasks, () => Promise.resolve(session), { check: false, ...options }, () => undefined);
  return { result, session, paths };
}

/** The apply's output cut after its first change, as when the connection dies there. */
function cutAfterFirstChange(result: ExecResult): string {
  const nonce = /<<<([0-9a-f]+) 0/.exec(result.stdout)?.[1] ?? '';
  return result.stdout.slice(0, result.stdout.indexOf(`>>>${nonce} 0 0`) + `>>>${nonce} 0 0\n`.length);
}

describe('host run: interrupts', () => {
  it('a first interrupt during the read stops the host before any change; the apply never starts', async () => {
    const interrupt = new AbortController();
    const { result, session, paths } = await run({ before: async (index) => { if (index === 0) interrupt.abort(); } }, { interrupt: interrupt.signal });
    expect(result).toMatchObject({ status: 'interrupted', interrupted: 'before-apply', applied: 0 });
    expect(session.stats.execs).toBe(1);
    expect(session.closed).toBe(true);
    expect(paths.some((path) => existsSync(path))).toBe(false);
  });

  it('a first interrupt after the read leaves every planned change not made', async () => {
    const interrupt = new AbortController();
    const { result, session } = await run(
      { after: (index, output) => (index === 0 && interrupt.abort(), output) },
      { interrupt: interrupt.signal },
    );
    expect(result).toMatchObject({ status: 'interrupted', interrupted: 'before-apply', outcomes: ['not-made', 'not-made', 'not-made'] });
    expect(session.stats.execs).toBe(1);
  });

  it('a first interrupt during the apply lets it finish: the host is done', async () => {
    const interrupt = new AbortController();
    // The interrupt comes once the apply exec has begun.
    const { result, session, paths } = await run(
      {
        before: async (index) => {
          if (index === 1) interrupt.abort();
        },
      },
      { interrupt: interrupt.signal },
    );
    expect(result).toMatchObject({ status: 'changed', applied: 3, outcomes: ['made', 'made', 'made'] });
    expect(result.interrupted).toBeUndefined();
    // The apply was never handed the first interrupt's signal.
    expect(session.signals[1]).toBeUndefined();
    expect(paths.map((path) => readFileSync(path, 'utf8'))).toEqual(['0\n', '1\n', '2\n']);
  });

  it('a second interrupt while the apply runs: interrupted mid-wave with unknown changes', async () => {
    const abort = new AbortController();
    // The second interrupt comes while the apply exec runs (it never ends by itself here).
    const { result } = await run(
      {
        before: (index) => {
          if (index !== 1) return Promise.resolve();
          abort.abort();
          return new Promise<void>(() => undefined);
        },
      },
      { abort: abort.signal },
    );
    expect(result).toMatchObject({ status: 'interrupted', interrupted: 'mid-wave', applied: 0, outcomes: ['unknown', 'unknown', 'unknown'] });
    const recap = renderRecap([result], false);
    expect(recap).toContain('made=0  not_made=0  unknown=3');
    expect(recap).toContain('may be half-applied (stopped in the middle of a change): h');
  });

  it('a host not yet started when the interrupt comes is never connected', async () => {
    const interrupt = new AbortController();
    interrupt.abort();
    let connected = false;
    const { tasks } = fileTasks();
    const result = await runHost('h', tasks, () => ((connected = true), Promise.resolve(new LocalSession())), { check: false, interrupt: interrupt.signal }, () => undefined);
    expect(result).toMatchObject({ status: 'interrupted', interrupted: 'before-apply', stats: { connections: 0, channels: 0, execs: 0 } });
    expect(connected).toBe(false);
  });
});

describe('host run: lost connections', () => {
  it('during the apply: failed as a lost connection, changes that reported made, the rest unknown (never "failed")', async () => {
    const { result, paths } = await run({
      after: (index, output) => {
        if (index !== 1) return output;
        throw new ConnectionLostError('no answer for 15 s', cutAfterFirstChange(output), '');
      },
    });
    expect(result).toMatchObject({ status: 'failed', applied: 1, outcomes: ['made', 'unknown', 'unknown'], error: { kind: 'connection' } });
    expect(result.error?.message).toBe('connection lost during apply (no answer for 15 s): 1 change(s) made, 2 unknown (the host may have made them)');
    // Indeed the host made them all: unknown was the honest answer.
    expect(paths.map((path) => readFileSync(path, 'utf8'))).toEqual(['0\n', '1\n', '2\n']);
    expect(renderRecap([result], false)).toContain('changed=1  failed=1  not-run=0  unreachable=0  interrupted=0');
  });

  it('during the read: failed, nothing changed', async () => {
    const { result, session } = await run({
      after: () => {
        throw new ConnectionLostError('no answer for 15 s', '', '');
      },
    });
    expect(result).toMatchObject({ status: 'failed', applied: 0, error: { kind: 'connection', message: 'connection lost during read (no answer for 15 s); nothing was changed' } });
    expect(session.stats.execs).toBe(1);
  });

  it('--check never makes a second exec, interrupt or not', async () => {
    const { result, session } = await run({}, { check: true });
    expect(result).toMatchObject({ status: 'changed', applied: 0 });
    expect(result.outcomes).toBeUndefined();
    expect(session.stats.execs).toBe(1);
  });
});

describe('CLI side', () => {
  it('turns the first signal into an interrupt and the second into an abort, and says so', () => {
    const source = new EventEmitter();
    const lines: string[] = [];
    const interrupts = watchInterrupts({ out: () => undefined, err: (line) => lines.push(line), isTTY: false }, source);
    source.emit('SIGTERM');
    expect([interrupts.interrupt.aborted, interrupts.abort.aborted]).toEqual([true, false]);
    source.emit('SIGINT');
    expect([interrupts.interrupt.aborted, interrupts.abort.aborted]).toEqual([true, true]);
    expect(lines).toHaveLength(2);
    interrupts.dispose();
    expect(source.listenerCount('SIGINT') + source.listenerCount('SIGTERM') + source.listenerCount('SIGHUP')).toBe(0);
  });

  it('lets every host of a large run listen on both signals without a warning of a listener leak', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): number => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const interrupts = watchInterrupts({ out: () => undefined, err: () => undefined, isTTY: false }, new EventEmitter());
      const listeners = Array.from({ length: 1000 }, () => () => undefined);
      for (const listener of listeners) {
        interrupts.interrupt.addEventListener('abort', listener, { once: true });
        interrupts.abort.addEventListener('abort', listener, { once: true });
      }
      // node reports the warning on a later tick.
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(warnings.map((warning) => warning.message)).toEqual([]);
      interrupts.dispose();
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('takes SIGHUP, the terminal going, as an interrupt too', () => {
    const source = new EventEmitter();
    const interrupts = watchInterrupts({ out: () => undefined, err: () => undefined, isTTY: false }, source);
    source.emit('SIGHUP');
    expect([interrupts.interrupt.aborted, interrupts.abort.aborted]).toEqual([true, false]);
    interrupts.dispose();
  });

  it('exits 130 once interrupted, whatever the hosts did', () => {
    const done = { host: 'a', status: 'changed', changes: [], applied: 0, stats: { connections: 1, channels: 1, execs: 2 }, seconds: 1 } as const;
    expect(exitCodeFor([done], true)).toBe(130);
    expect(exitCodeFor([{ ...done, status: 'interrupted', interrupted: 'before-apply' }])).toBe(130);
    expect(exitCodeFor([{ ...done, status: 'failed' }])).toBe(2);
    expect(exitCodeFor([done])).toBe(0);
  });
});
