import { countOutcomes } from '../engine/change-outcomes.js';
import type { HostResult, HostStatus, Interruption } from '../engine/events.js';
import { escapeControls, limitLines } from './safe-text.js';

// The recap an Ansible user looks for last: one line per host with its counts, then the errors.
// A host whose changes were not all made says how many were made, not made, and unknown (the
// connection went while they ran); an interrupted run says where it left each host.

const interruptionText: Record<Interruption, string> = {
  'before-apply': 'interrupted before apply (nothing changed)',
  'between-waves': 'interrupted between waves',
  'mid-wave': 'stopped mid-wave: may be half-applied',
};

function outcomeNote(result: HostResult): string {
  const notes: string[] = [];
  if (result.outcomes && result.outcomes.some((outcome) => outcome !== 'made')) {
    const counts = countOutcomes(result.outcomes);
    notes.push(`made=${counts.made}  not_made=${counts['not-made'] + counts.failed}  unknown=${counts.unknown}`);
  }
  if (result.interrupted) notes.push(interruptionText[result.interrupted]);
  if (result.lock) notes.push(`waited ${result.lock.waitedSeconds.toFixed(1)}s for the host lock`);
  return notes.length > 0 ? `   ${notes.join('; ')}` : '';
}

/**
 * Changes counted the way the plan section lists them: `changed` ran (with --check: would run),
 * `failed` is 1 for a failed host (its failing change, or its probe), `notRun` the planned changes
 * that never ran.
 */
export function changeCounts(result: HostResult): { changed: number; failed: number; notRun: number; unknown: number } {
  const failed = result.status === 'failed' ? 1 : 0;
  if (result.outcomes) {
    const counts = countOutcomes(result.outcomes);
    return { changed: counts.made, failed, notRun: counts['not-made'], unknown: counts.unknown };
  }
  if (result.status !== 'failed') return { changed: result.status === 'unreachable' || result.status === 'interrupted' ? 0 : result.changes.length, failed: 0, notRun: 0, unknown: 0 };
  const failedChange = result.error?.kind === 'apply' ? 1 : 0;
  return { changed: result.applied, failed, notRun: Math.max(0, result.changes.length - result.applied - failedChange), unknown: 0 };
}

export interface RecapStyle {
  /** Colours the status word; identity when colour is off (NO_COLOR, not a terminal). */
  readonly paint: (status: string, text: string) => string;
}

const plain: RecapStyle = { paint: (_status, text) => text };

export function renderRecap(results: readonly HostResult[], check: boolean, style: RecapStyle = plain): string {
  const width = Math.max(4, ...results.map((result) => result.host.length));
  const lines = [`RECAP${check ? ' (check: nothing was changed)' : ''}`];
  for (const result of results) {
    const counts = changeCounts(result);
    const status: string = result.status;
    const fields = [
      `ok=${status === 'ok' || status === 'changed' ? 1 : 0}`,
      `changed=${counts.changed}`,
      `failed=${counts.failed}`,
      `not-run=${counts.notRun}`,
      `unreachable=${status === 'unreachable' ? 1 : 0}`,
      `interrupted=${status === 'interrupted' ? 1 : 0}`,
    ];
    const shown = check && status === 'changed' ? 'would change' : status;
    lines.push(`${result.host.padEnd(width)} : ${style.paint(status, shown.padEnd(12))} ${fields.join('  ')}   ${result.seconds.toFixed(2)}s${outcomeNote(result)}`);
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
  const interrupted = results.filter((result) => result.interrupted);
  if (interrupted.length > 0) {
    const halfApplied = interrupted.filter((result) => result.interrupted === 'mid-wave').map((result) => result.host);
    lines.push('', `INTERRUPTED: ${results.length - interrupted.length} host(s) ran to the end, ${interrupted.length - halfApplied.length} stopped before applying`);
    if (halfApplied.length > 0) lines.push(`may be half-applied (stopped in the middle of a change): ${halfApplied.join(', ')}; run apply again to converge them`);
  }
  return lines.join('\n');
}

export function totals(results: readonly HostResult[]): Record<HostStatus, number> {
  const counts = { ok: 0, changed: 0, failed: 0, unreachable: 0, interrupted: 0 };
  for (const result of results) counts[result.status] += 1;
  return counts;
}
