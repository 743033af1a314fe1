import { columns } from './columns.js';
import { escapeControls } from './safe-text.js';
import type { FailoverDrill, FailoverPhase, FailoverReport } from '../verify/failover/report.js';

// `verify --failover` for people: per VRRP instance, who was master and backup, then a row per
// measured phase (the handover and the move back) with its figures, then the verdict.

const statusWord: Record<FailoverDrill['status'], string> = { pass: 'PASS', fail: 'FAIL', refused: 'REFUSED', 'not-run': 'NOT RUN' };
const s = (value: number): string => `${value.toFixed(2)} s`;

function phaseCells(phase: FailoverPhase): string[] {
  return [
    phase.action,
    phase.holders.length === 0 ? 'nobody' : phase.holders.join('+'),
    phase.heldAfterSeconds === undefined ? '-' : s(phase.heldAfterSeconds),
    s(phase.gapSeconds),
    `${s(phase.gapFromSeconds)} to ${s(phase.gapToSeconds)}`,
    `${phase.failed} of ${phase.sent}`,
    String(phase.failedAfterHandover),
    phase.status === 'pass' ? 'PASS' : 'FAIL',
  ];
}

export function renderDrill(drill: FailoverDrill): string[] {
  const lines = [`VRRP ${drill.instance}  ${drill.vips.join(', ')}  ${statusWord[drill.status]}`];
  if (drill.urls.length > 0) lines.push(`  requests to ${drill.urls.join(', ')}`);
  if (drill.master !== undefined && drill.backup !== undefined) {
    lines.push(`  master ${drill.master}, backup ${drill.backup}; ${drill.preempts ? `${drill.master} takes the VIPs back when it returns (preemption)` : `${drill.backup} keeps the VIPs when ${drill.master} returns (no preemption)`}`);
  }
  if (drill.phases.length > 0) {
    const header = ['action', 'held by', 'held after', 'longest gap', 'gap (from the action)', 'failed', 'after handover', 'verdict'];
    lines.push(...columns([header, ...drill.phases.map(phaseCells)], new Set([2, 3, 5, 6])).map((line) => `  ${line}`));
    for (const phase of drill.phases) {
      if (phase.quietBeforeSeconds !== undefined) {
        lines.push(`  ${phase.action}: no answer in the ${s(phase.quietBeforeSeconds)} before it: requests were already failing or slow; the gap counts from the action`);
      }
      if (phase.reasons.length > 0) lines.push(`  ${phase.action}: failed requests: ${phase.reasons.join('; ')}`);
      for (const late of phase.lateFailures) lines.push(`  ${phase.action}: after the handover, sent at ${s(late.sentSeconds)}, ended at ${s(late.endedSeconds)}: ${late.reason}`);
    }
  }
  for (const problem of drill.problems) lines.push(`  ! ${problem}`);
  if (drill.leftBehind !== undefined) lines.push(`  ! left behind: ${drill.leftBehind}`);
  return lines;
}

export function renderFailover(report: FailoverReport): string {
  const blocks: string[][] = [
    [`verify --failover${report.cluster ? ` ${report.cluster}` : ''}: requests from ${report.client}, ${report.ratePerSecond} per second; max gap ${report.maxGapSeconds} s`],
    ...report.drills.map(renderDrill),
  ];
  const verdict = report.failures.length > 0 ? 'FAIL' : report.interrupted ? 'INTERRUPTED' : report.unreachable.length > 0 || report.drills.some((drill) => drill.status === 'not-run') ? 'INCOMPLETE' : 'PASS';
  const summary = [`RESULT: ${verdict}${report.failures.length > 0 ? ` (${report.failures.length} problem${report.failures.length === 1 ? '' : 's'})` : ''}  ${report.seconds.toFixed(1)}s`];
  for (const failure of report.failures) summary.push(`  - ${failure}`);
  for (const host of report.unreachable) summary.push(`  unreachable: ${host}`);
  blocks.push(summary);
  return blocks.map((lines) => lines.map(escapeControls).join('\n')).join('\n\n');
}
