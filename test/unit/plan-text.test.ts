import { describe, expect, it } from 'vitest';
import type { HostResult } from '../../src/engine/events.js';
import { renderPlan } from '../../src/report/plan-text.js';
import { renderRecap } from '../../src/report/recap.js';

const result = (overrides: Partial<HostResult>): HostResult => ({
  host: 'rs1',
  status: 'changed',
  changes: [],
  applied: 0,
  stats: { connections: 1, execs: 1 },
  seconds: 0.25,
  ...overrides,
});

describe('plan rendering', () => {
  const changes: HostResult['changes'] = [
    { resource: 'sysctl net.ipv4.ip_forward', summary: 'set net.ipv4.ip_forward 0 -> 1', diff: { kind: 'value', before: '0', after: '1' }, commands: [], task: 'forward', role: 'router' },
    {
      resource: 'file /etc/sysctl.d/90-x.conf',
      summary: 'update /etc/sysctl.d/90-x.conf',
      diff: { kind: 'file', before: 'a = 1\nb = 2\n', after: 'a = 1\nb = 3\n' },
      commands: [],
      task: 'persist',
    },
  ];

  it('shows a unified diff for files and before/after for values with --diff', () => {
    expect(renderPlan([result({ changes })], { diff: true, check: true }).split('\n')).toEqual([
      'rs1: 2 would change',
      '  ~ set net.ipv4.ip_forward 0 -> 1    [router: forward]',
      '      - 0',
      '      + 1',
      '  ~ update /etc/sysctl.d/90-x.conf    [persist]',
      '      --- /etc/sysctl.d/90-x.conf (current)',
      '      +++ /etc/sysctl.d/90-x.conf (planned)',
      '      @@ -1,2 +1,2 @@',
      '       a = 1',
      '      -b = 2',
      '      +b = 3',
    ]);
  });

  it('shows summaries only without --diff, and nothing for hosts without changes', () => {
    expect(renderPlan([result({ changes }), result({ host: 'rs2', status: 'ok' })], { diff: false, check: false })).toBe(
      ['rs1: 2 changed', '  ~ set net.ipv4.ip_forward 0 -> 1    [router: forward]', '  ~ update /etc/sysctl.d/90-x.conf    [persist]'].join('\n'),
    );
  });

  it('marks the change that failed and the ones that never ran', () => {
    const text = renderPlan([result({ status: 'failed', changes, applied: 0 })], { diff: false, check: false });
    expect(text).toContain('  ! set net.ipv4.ip_forward 0 -> 1  (FAILED)');
    expect(text).toContain('    update /etc/sysctl.d/90-x.conf  (not run)');
  });

  it('recaps every host with its status and the errors after the table', () => {
    const recap = renderRecap(
      [result({ changes }), result({ host: 'director', status: 'unreachable', error: { kind: 'connect', message: 'refused' } })],
      false,
    ).split('\n');
    expect(recap[0]).toBe('RECAP');
    expect(recap[1]).toMatch(/^rs1 {6}: changed +ok=1 {2}changed=2 {2}unreachable=0 {2}failed=0/);
    expect(recap[2]).toMatch(/^director : unreachable +ok=0 {2}changed=0 {2}unreachable=1 {2}failed=0/);
    expect(recap.at(-1)).toBe('director: unreachable: refused');
  });
});
