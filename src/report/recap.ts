import { escapeControls, limitLines } from './safe-text.js';
import type { HostResult } from '../engine/events.js';

// The recap an Ansible user looks for last: one line per host with its counts, then the errors.

export function renderRecap(results: readonly HostResult[], check: boolean): string {
  const width = Math.max(4, ...results.map((result) => result.host.length));
  const lines = [`RECAP${check ? ' (check: nothing was changed)' : ''}`];
  for (const result of results) {
    const changed = result.status === 'failed' ? result.applied : result.changes.length;
    const counts = [
      `ok=${result.status === 'unreachable' ? 0 : 1}`,
      `changed=${changed}`,
      `unreachable=${result.status === 'unreachable' ? 1 : 0}`,
      `failed=${result.status === 'failed' ? 1 : 0}`,
    ];
    const status = check && result.status === 'changed' ? 'would change' : result.status;
    lines.push(`${result.host.padEnd(width)} : ${status.padEnd(12)} ${counts.join('  ')}   ${result.seconds.toFixed(2)}s`);
  }
  const errors = results.filter((result) => result.error);
  if (errors.length > 0) {
    lines.push('');
    for (const result of errors) {
      // A failed command's output comes from the host: escaped and cut like a diff.
      lines.push(`${result.host}: ${result.status}: ${escapeControls(result.error?.message ?? '')}`);
      if (result.error?.output) lines.push(...limitLines(result.error.output.split('\n')).map((line) => `    ${line}`));
    }
  }
  return lines.join('\n');
}

export function totals(results: readonly HostResult[]): Record<HostResult['status'], number> {
  const counts = { ok: 0, changed: 0, failed: 0, unreachable: 0 };
  for (const result of results) counts[result.status] += 1;
  return counts;
}
