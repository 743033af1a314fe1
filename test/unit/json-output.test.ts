import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { lineWriter } from '../../src/cli/io.js';
import { writeJson } from '../../src/cli/json-output.js';

// The CLI's --json report, written a line group at a time: byte for byte what one
// JSON.stringify(document, null, 2) gives, with no piece larger than one element of the streamed array.

async function written(document: Record<string, unknown>, streamed = 'hosts'): Promise<string[]> {
  const lines: string[] = [];
  await writeJson({ out: (line) => void lines.push(line) }, document, streamed);
  return lines;
}

const host = (name: string, changes: number): Record<string, unknown> => ({
  host: name,
  status: 'changed',
  changes: Array.from({ length: changes }, (_, index) => ({
    summary: `write /etc/x${index}`,
    diff: { kind: 'text', before: '', after: `line "one"\nline\ttwo ${'\u00e9\u2028'} \\ end\n` },
    empty: [],
    nothing: {},
    skipped: undefined,
  })),
  stats: { connections: 1, execs: 2 },
});

describe('writeJson', () => {
  const documents: Array<[string, Record<string, unknown>]> = [
    ['an apply report', { mode: 'apply', check: false, totals: { changed: 2 }, exitCode: 0, waves: [{ phase: 'prepare', hosts: ['a', 'b'] }], drains: [], hosts: [host('a', 3), host('b', 1)], firstConnectionMs: 12 }],
    ['no hosts', { mode: 'apply', hosts: [], exitCode: 0 }],
    ['the streamed array last and first', { hosts: [host('only', 2)] }],
    ['values JSON leaves out or nulls', { gone: undefined, fn: () => 1, hosts: [undefined, host('x', 0), null, () => 2], after: [undefined], n: null, text: 'a\nb' }],
    ['nested empties and numbers', { a: { b: { c: [] } }, hosts: [[], {}, 0, '', [1, [2, { d: [] }]]], z: -1.5e-7 }],
    ['no streamed key at all', { mode: 'status', at: '2026-12-02T00:00:00Z' }],
    ['an empty document', {}],
  ];

  it.each(documents)('writes %s exactly as JSON.stringify(document, null, 2)', async (_, document) => {
    expect(`${(await written(document)).join('\n')}\n`).toBe(`${JSON.stringify(document, null, 2)}\n`);
  });

  it('never writes a piece larger than one host: a thousand hosts are written a host at a time', async () => {
    const hosts = Array.from({ length: 1000 }, (_, index) => host(`h${index}`, 8));
    const document = { mode: 'apply', hosts };
    const lines = await written(document);
    const whole = JSON.stringify(document, null, 2);
    expect(`${lines.join('\n')}\n`).toBe(`${whole}\n`);
    const largestHost = Math.max(...hosts.map((entry) => JSON.stringify(entry, null, 2).length));
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(largestHost * 1.5);
    expect(lines.length).toBeGreaterThan(1000);
  });

  it('waits for a slow reader: what it has not taken stays near one host, not the whole report', async () => {
    // A stream that takes a chunk per turn of the event loop, as a pipe to a busy reader does.
    const received: string[] = [];
    let queuedMost = 0;
    const reader = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, done) {
        received.push(chunk.toString());
        setImmediate(done);
      },
    });
    const lines = lineWriter(reader, () => undefined);
    const out = (line: string): void => {
      lines.write(line);
      queuedMost = Math.max(queuedMost, reader.writableLength);
    };
    const hosts = Array.from({ length: 1000 }, (_, index) => host(`h${index}`, 8));
    const document = { mode: 'apply', hosts };
    await writeJson({ out, outDrained: lines.drained }, document, 'hosts');
    await new Promise<void>((resolve) => reader.end(resolve));
    const whole = `${JSON.stringify(document, null, 2)}\n`;
    expect(received.join('')).toBe(whole);
    const largestHost = Math.max(...hosts.map((entry) => JSON.stringify(entry, null, 2).length));
    // Without the wait the whole report (1000 hosts) would be queued at once.
    expect(whole.length).toBeGreaterThan(50 * (16 * 1024 + largestHost));
    expect(queuedMost).toBeLessThan(16 * 1024 + 2 * largestHost);
  });

  it('stops waiting for a reader that failed', async () => {
    const reader = new Writable({ highWaterMark: 1, write: (_chunk, _encoding, done) => setImmediate(() => done(Object.assign(new Error('gone'), { code: 'EPIPE' }))) });
    const failures: string[] = [];
    const lines = lineWriter(reader, (error) => failures.push(error.code ?? ''));
    lines.write('a line longer than the stream wants');
    await lines.drained();
    expect(failures).toEqual(['EPIPE']);
    await expect(writeJson({ out: lines.write, outDrained: lines.drained }, { hosts: [1, 2, 3] }, 'hosts')).resolves.toBeUndefined();
  });

  it('does not wait for a reader that is already gone, full as it was', async () => {
    const reader = new Writable({ highWaterMark: 1, write: () => undefined });
    const lines = lineWriter(reader, () => undefined);
    lines.write('more than the stream wants, never taken');
    expect(reader.writableNeedDrain).toBe(true);
    reader.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    await expect(lines.drained()).resolves.toBeUndefined();
  });
});
