import { createTwoFilesPatch } from 'diff';
import type { HostResult, PlannedChange } from '../engine/events.js';
import { escapeControls, limitLines } from './safe-text.js';

// The plan as a person reads it: per host, one line per change, and with --diff the exact edit -
// a unified diff for files, before -> after for values. Everything read from a host is escaped
// and long diffs are cut (safe-text.ts).

export interface RenderOptions {
  readonly diff: boolean;
  readonly check: boolean;
}

function fileLabel(change: PlannedChange): string {
  return change.resource.replace(/^[a-z]+ /, '');
}

export function renderDiff(change: PlannedChange): string[] {
  if (!change.diff) return [];
  if (change.diff.kind === 'file') {
    const label = fileLabel(change);
    const patch = createTwoFilesPatch(`${label} (current)`, `${label} (planned)`, change.diff.before, change.diff.after, undefined, undefined, {
      context: 3,
    });
    // Drop the `Index:`/`===` preamble the diff library writes; keep ---/+++ and the hunks.
    const lines = patch.split('\n').filter((line) => line !== '' && !line.startsWith('Index: ') && !/^=+$/.test(line));
    return limitLines(lines).map((line) => `      ${line}`);
  }
  return limitLines([`- ${change.diff.before}`, `+ ${change.diff.after}`]).map((line) => `      ${line}`);
}

export function renderHostPlan(result: HostResult, options: RenderOptions): string[] {
  if (result.changes.length === 0) return [];
  const verb = options.check ? 'would change' : 'changed';
  const lines = [`${result.host}: ${result.changes.length} ${verb}`];
  result.changes.forEach((change, index) => {
    const outcome = result.outcomes?.[index];
    const failed = outcome ? outcome === 'failed' : result.status === 'failed' && !options.check && index === result.applied;
    const notRun = outcome ? outcome === 'not-made' : result.status === 'failed' && !options.check && index > result.applied;
    const unknown = outcome === 'unknown';
    const mark = failed ? '!' : notRun ? ' ' : unknown ? '?' : '~';
    const suffix = failed ? '  (FAILED)' : notRun ? '  (not run)' : unknown ? '  (UNKNOWN: the host may or may not have made it)' : '';
    lines.push(`  ${mark} ${escapeControls(change.summary)}${suffix}    [${change.role ? `${change.role}: ` : ''}${change.task}]`);
    if (options.diff) lines.push(...renderDiff(change));
  });
  return lines;
}

export function renderPlan(results: readonly HostResult[], options: RenderOptions): string {
  const blocks = results.map((result) => renderHostPlan(result, options)).filter((lines) => lines.length > 0);
  return blocks.map((lines) => lines.join('\n')).join('\n\n');
}
