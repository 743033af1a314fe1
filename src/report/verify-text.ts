import { columns } from './columns.js';
import { escapeControls } from './safe-text.js';
import type { ArpCheck, CheckStatus, PageCheck, ServerRow, ServiceCheck, SessionCheck, VerifyReport } from '../verify/report.js';

// verify's report for people: a table per virtual service (with a bar per real server whose `|`
// marks the expected share), then the ARP and direct-page checks, then the verdict and every
// problem on its own line.

const barWidth = 30;

export function shareBar(gotPercent: number, expectedPercent?: number, width = barWidth): string {
  const filled = Math.max(0, Math.min(width, Math.round((gotPercent / 100) * width)));
  const cells: string[] = Array.from({ length: width }, (_, index) => (index < filled ? '#' : '.'));
  if (expectedPercent !== undefined) {
    cells[Math.max(0, Math.min(width - 1, Math.round((expectedPercent / 100) * width) - (expectedPercent > 0 ? 1 : 0)))] = '|';
  }
  return `[${cells.join('')}]`;
}

const statusWord: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', skipped: 'NOT CHECKED', 'not-run': 'NOT RUN' };

function serverCells(row: ServerRow, service: ServiceCheck): string[] {
  const expected = row.expectedPercent === undefined ? '-' : `${service.check === 'every' ? '~' : ''}${row.expectedPercent.toFixed(1)}%`;
  const judged = service.check === 'split' ? row.expectedPercent : undefined;
  return [
    row.name ?? '?',
    `${row.address}:${row.port}`,
    String(row.weight),
    expected,
    `${row.gotPercent.toFixed(1)}%`,
    String(row.answers),
    shareBar(row.gotPercent, judged),
    `${row.verdict === 'ok' || row.verdict === 'info' ? '' : '! '}${row.detail}`,
  ];
}

export function renderService(service: ServiceCheck): string[] {
  const where = service.vip !== undefined ? `${service.protocol} ${service.vip}${service.port !== undefined ? `:${service.port}` : ''}` : service.protocol;
  const lines = [`service ${service.name}  ${where}  ${service.scheduler}${service.persistent ? ' persistent' : ''}  ${service.forwarding}  ${statusWord[service.status]}`];
  for (const note of service.notes) lines.push(`  ${note}`);
  if (service.status === 'skipped' || service.status === 'not-run') return lines;
  const header = ['server', 'address:port', 'weight', 'expected', 'got', 'answers', 'share (| = expected)', 'verdict'];
  lines.push(...columns([header, ...service.servers.map((row) => serverCells(row, service))], new Set([2, 3, 4, 5])).map((line) => `  ${line}`));
  const strangers = Object.entries(service.strangers).map(([name, count]) => `${name} ${count}`);
  lines.push(`  ${service.sent} sent, ${service.answered} answered${service.unanswered > 0 ? `, ${service.unanswered} unanswered` : ''}${strangers.length > 0 ? `; from other hosts: ${strangers.join(', ')}` : ''}`);
  for (const problem of service.problems) lines.push(`  ! ${problem}`);
  return lines;
}

export function renderArp(check: ArpCheck): string[] {
  const responders = check.responders.map((responder) => `${responder.host ?? 'unknown'} ${responder.mac} (${responder.replies})`);
  const lines = [`ARP ${check.vip}  ${statusWord[check.status]}${responders.length > 0 ? `  answered by: ${responders.join(', ')}` : ''}`];
  const directors = check.directors.map((d) => `${d.host} ${d.device} ${d.mac ?? '?'}${d.holdsVip ? '' : ' (does not hold the VIP)'}`);
  if (directors.length > 0) lines.push(`  director: ${directors.join(', ')}`);
  for (const note of check.notes) lines.push(`  ${note}`);
  for (const problem of check.problems) lines.push(`  ! ${problem}`);
  return lines;
}

export function renderPages(pages: readonly PageCheck[]): string[] {
  if (pages.length === 0) return [];
  const rows = pages.map((page) => [page.host ?? '?', page.url, statusWord[page.status], page.status === 'pass' ? `names ${page.got ?? '?'}` : `! ${page.problem ?? ''}`]);
  return ['pages fetched directly', ...columns(rows).map((line) => `  ${line}`)];
}

export function renderSession(check: SessionCheck): string[] {
  const servers = Object.entries(check.servers).map(([name, answers]) => `${name} ${answers}`);
  const lines = [`session ${check.service}  ${check.url}  ${statusWord[check.status]}`];
  if (check.sent > 0) lines.push(`  ${check.sent} requests of one user; counts ${check.counts.join(' ')}${servers.length > 0 ? `; answered by ${servers.join(', ')}` : ''}`);
  for (const note of check.notes) lines.push(`  ${note}`);
  for (const problem of check.problems) lines.push(`  ! ${problem}`);
  return lines;
}

export function renderVerify(report: VerifyReport): string {
  const blocks: string[][] = [
    [
      `verify${report.cluster ? ` ${report.cluster}` : ''}: ${report.requests} requests per service from ${report.client}${report.fetcher ? ` (${report.fetcher})` : ''}, tolerance ${report.tolerance} percentage points`,
    ],
    ...report.services.map(renderService),
    ...report.arp.map(renderArp),
    renderPages(report.pages),
    ...report.sessions.map(renderSession),
  ];
  const verdict = report.failures.length > 0 ? 'FAIL' : report.unreachable.length > 0 ? 'INCOMPLETE' : 'PASS';
  const summary = [`RESULT: ${verdict}${report.failures.length > 0 ? ` (${report.failures.length} problem${report.failures.length === 1 ? '' : 's'})` : ''}  ${report.seconds.toFixed(1)}s`];
  for (const failure of report.failures) summary.push(`  - ${failure}`);
  for (const host of report.unreachable) summary.push(`  unreachable: ${host}`);
  blocks.push(summary);
  return blocks
    .filter((lines) => lines.length > 0)
    // What the pages, ARP replies and hosts said is shown with its control characters escaped.
    .map((lines) => lines.map(escapeControls).join('\n'))
    .join('\n\n');
}
