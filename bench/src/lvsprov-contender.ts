import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';
import type { Lab } from '../../src/lab/netns/index.js';
import { runFailure, type Contender } from './contender.js';
import { timedRun, usage } from './timed-run.js';

// lvsprov as a user runs it: the installed CLI, a fresh node process, default settings (no
// --forks), --json to read the result. A first apply must change every host, a re-run none;
// anything else is a broken run.

interface JsonReport {
  readonly hosts: JsonHost[];
  readonly firstConnectionMs?: number;
  readonly handshakes?: { readonly limit: number; readonly widest?: number; readonly peak: number };
}

interface JsonHost {
  readonly host: string;
  readonly status: string;
  readonly changes: readonly unknown[];
  readonly stats: { readonly connections: number; readonly execs: number };
  readonly error?: { readonly kind: string; readonly message: string; readonly task?: string; readonly output?: string };
}

export const lvsprovPlaybook = join(repoRoot, 'bench/lvsprov/playbook.yaml');
export const cli = join(repoRoot, 'bin/lvsprov.cjs');

/**
 * The node flags of the bin's first line (`#!/usr/bin/env -S node --flag ...`): the installed
 * command runs with them, and `node bin/lvsprov.cjs` alone would not.
 */
export const cliNodeFlags: readonly string[] = readFileSync(cli, 'utf8').split('\n', 1)[0]?.split(/\s+/).filter((word) => word.startsWith('--')) ?? [];

export interface LvsprovSettings {
  readonly inventory: string;
  readonly hosts: number;
  readonly cpuProfDir?: string;
}

export function lvsprovArgv(settings: LvsprovSettings): string[] {
  const profile = settings.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', settings.cpuProfDir] : [];
  return [process.execPath, ...cliNodeFlags, ...profile, cli, 'apply', '-i', settings.inventory, '-p', lvsprovPlaybook, '--json'];
}

export function lvsprovContender(lab: Lab, settings: LvsprovSettings, kind: 'first' | 'rerun', reset: () => Promise<void>): Contender {
  const expected = kind === 'first' ? 'changed' : 'ok';
  return {
    id: kind === 'first' ? 'lvsprov-first' : 'lvsprov-rerun',
    label: kind === 'first' ? 'lvsprov first apply' : 'lvsprov re-run',
    ...(kind === 'first' ? { prepare: reset } : {}),
    run: async (timing) => {
      const result = await timedRun(lvsprovArgv(settings), { ...timing, cwd: repoRoot });
      let report: JsonReport;
      try {
        report = JSON.parse(result.stdout) as JsonReport;
      } catch {
        throw runFailure(`lvsprov ${kind}`, result.code, result.stdout, result.stderr);
      }
      const hosts = report.hosts;
      const wrong = hosts.filter((host) => host.status !== expected || (kind === 'rerun') !== (host.changes.length === 0));
      if (result.code !== 0 || hosts.length !== lab.hosts.length || wrong.length > 0) {
        const sample = wrong.slice(0, 5).map((host) => `${host.host}: ${host.status}, ${host.changes.length} changes${host.error ? ` (${whyFailed(host.error)})` : ''}`);
        const causes = countBy(wrong.map((host) => (host.error ? `${host.error.kind}: ${host.error.message}` : host.status)));
        throw new Error(`lvsprov ${kind}: exit ${result.code}, ${hosts.length} hosts, ${wrong.length} not ${expected}; ${sample.join('; ')}\nby cause: ${causes}`);
      }
      return {
        seconds: result.seconds,
        ...usage(result),
        clientCounts: hosts.map((host) => host.stats),
        ...(report.firstConnectionMs !== undefined ? { firstConnectionMs: report.firstConnectionMs } : {}),
        ...(report.handshakes ? { handshakes: report.handshakes } : {}),
      };
    },
  };
}

function whyFailed(error: NonNullable<JsonHost['error']>): string {
  const output = error.output?.trim().split('\n').slice(-3).join(' | ');
  return [error.kind, error.task, error.message, output].filter(Boolean).join(': ');
}

/** `text (count)` for each distinct text, most frequent first. */
function countBy(texts: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const text of texts) counts.set(text, (counts.get(text) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([text, count]) => `${text} (${count})`).join('; ');
}
