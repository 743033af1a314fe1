import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseReadSections, readScript } from '../../src/engine/batch-script.js';
import { readFileSnippet } from '../../src/resources/file-state.js';

// A run keeps every host's read sections until it ends (a replan reads them again). What it keeps
// must be the sections, not the whole output they were cut from: that output carries every file
// the read prefetched, as hex (three bytes a byte), and a run may hold a thousand hosts.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A read's output of two probes as a host prints it: the prefetch of one file of about `size` bytes, a reference to it, a line. */
function readOutput(nonce: string, size: number): string {
  const probe = readFileSnippet('/var/lib/lvsprov/owned');
  const id = /\|([A-Za-z0-9+/=]+)\|/.exec(readScript(nonce, [probe]))?.[1] ?? '';
  const hex = Array.from({ length: Math.ceil(size / 16) }, () => ' 61'.repeat(16)).join('\n');
  const prefetch = `<<<${nonce} 2\n|${id}|\n600 ${Math.ceil(size / 16) * 16}\n${hex}\n>>>${nonce} 2 0\n`;
  return `${prefetch}<<<${nonce} 0\nF@ ${id}\n>>>${nonce} 0 0\n<<<${nonce} 1\nsome probe's longer line of output\n>>>${nonce} 1 0\n`;
}

describe('what a run keeps of a read', () => {
  it('is the sections: 200 reads of 200 kB of hex keep what their sections hold, not the outputs', () => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const kept = Array.from({ length: 200 }, (_, index) => {
      const nonce = `n${index}`;
      // A fresh string per host, as each host's output is.
      const output = readOutput(nonce, 64 * 1024 + index);
      return parseReadSections(nonce, output, 2);
    });
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // The file itself (64 kB a host, as base64 in the file's line) is kept: 200 x 87 kB = 17 MB.
    expect(kept.every((sections) => sections.get(0)?.stdout.startsWith('F 600 YWFh') && sections.get(1)?.stdout.startsWith('some'))).toBe(true);
    // Each output (192 kB of hex) kept whole would add 38 MB more.
    expect(grown).toBeLessThan(30 * 1024 * 1024);
  });
});
