import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

// The qemu e2e files build their labs in one directory, one file after another: `lab up` in a
// directory whose guest still runs keeps that guest and rebuilds only its hosts (a boot and a
// power-off cost each file 15-20 s under emulation). The guest goes when the run ends.

declare module 'vitest' {
  export interface ProvidedContext {
    /** The lab directory every qemu e2e file passes to `lab up --dir`. */
    e2eLabDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const parent = mkdtempSync(join(tmpdir(), 'lvsprov-e2e-'));
  const labDir = join(parent, 'lab');
  project.provide('e2eLabDir', labDir);
  return () => {
    try {
      // A file may have taken the lab down itself (lab-modes proves `lab down`).
      if (existsSync(labDir)) {
        execFileSync(process.execPath, [join(import.meta.dirname, '../../bin/lvsprov.cjs'), 'lab', 'down', '--dir', labDir], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
      }
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  };
}
