import { afterEach, describe, expect, it, vi } from 'vitest';
import { listrProgress } from '../../src/cli/progress.js';
import type { HostResult } from '../../src/engine/events.js';

// The terminal's live list is drawn for the hosts a run starts with. A host the run opens later (a
// director dropped from a VRRP group, whose keepalived it stops) must still be shown: below the list.

const result = (host: string, changes: number): HostResult =>
  ({ host, status: changes > 0 ? 'changed' : 'ok', changes: Array.from({ length: changes }, () => ({})), applied: changes, stats: { connections: 1, channels: 1, execs: 2 }, seconds: 0.1 }) as unknown as HostResult;

describe('the terminal progress list', () => {
  afterEach(() => vi.restoreAllMocks());

  it('shows the outcome of a host opened during the run below the list, and the listed hosts in it', async () => {
    let written = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return true;
    });
    const progress = await listrProgress(['dir1', 'dir2'], false);
    progress.sink({ type: 'host-phase', host: 'dir3', phase: 'connecting' });
    progress.sink({ type: 'host-done', result: result('dir3', 1) });
    progress.sink({ type: 'host-done', result: result('dir1', 2) });
    progress.sink({ type: 'host-done', result: result('dir2', 0) });
    await progress.finish();
    const plain = written.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(plain).toContain('dir1: changed (2 changes)');
    expect(plain).toContain('dir2: ok');
    expect(plain).toContain('dir3: changed (1 change) (opened during the run)');
    expect(plain.lastIndexOf('dir3: changed')).toBeGreaterThan(plain.lastIndexOf('dir2: ok'));
  });
});
