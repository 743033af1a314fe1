import { describe, expect, it } from 'vitest';
import type { HostResult, PlannedChange } from '../../src/engine/events.js';
import { planWaves } from '../../src/engine/wave-plan.js';
import { renderPlan } from '../../src/report/plan-text.js';
import { renderRecap } from '../../src/report/recap.js';

const result = (overrides: Partial<HostResult>): HostResult => ({
  host: 'rs1',
  status: 'changed',
  changes: [],
  applied: 0,
  stats: { connections: 1, channels: 1, execs: 1 },
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

  it('lists what hosts noted without a change (a real server down by health check), even when nothing would change', () => {
    const down = '192.0.2.12:80 in TCP 198.51.100.50:80: down (health check)';
    const results = [result({ host: 'dir1', status: 'ok', notes: [{ text: down }] }), result({ host: 'dir2', status: 'ok', notes: [{ text: `${down}\u001b[2J` }] }), result({ host: 'rs1', status: 'ok' })];
    expect(renderPlan(results, { diff: false, check: true }).split('\n')).toEqual([
      'noted when the hosts were read; no change, what the hosts decided themselves:',
      `  dir1: ${down}`,
      `  dir2: ${down}\\e[2J`,
    ]);
    // After an apply the note is from the read before it: said, not passed off as the state now.
    expect(renderPlan(results, { diff: false, check: false }).split('\n')[0]).toBe('noted when the hosts were read, before the apply (it may have changed since); no change, what the hosts decided themselves:');
  });

  it("--check shows a moved VIP's add and announce on the new director as a second exec, after the old director let it go", () => {
    const vip = '198.51.100.50';
    const waits = { address: vip, from: ['dir1'] };
    const dir1: PlannedChange[] = [
      { resource: `address ${vip} on eth0`, summary: `address ${vip} on eth0: ${vip}/32 label eth0:1 -> (absent)`, commands: [], task: 'VIP', phase: 'balance', releases: [vip], handedOver: { to: ['dir2'], phase: 'withdraw' } },
      { resource: 'ipvs -t', summary: 'remove service TCP 198.51.100.50:80', commands: [], task: 'pool', phase: 'withdraw' },
    ];
    const dir2: PlannedChange[] = [
      { resource: 'ipvs -t', summary: 'add service TCP 198.51.100.50:80 (wrr)', commands: [], task: 'pool', phase: 'balance' },
      { resource: `address ${vip} on eth0`, summary: `address ${vip} on eth0: (absent) -> ${vip}/32 label eth0:1`, commands: [], task: 'VIP', phase: 'balance', awaitsRelease: waits },
      { resource: `address ${vip} on eth0`, summary: `announce ${vip} on eth0 (gratuitous ARP)`, commands: [], task: 'VIP', phase: 'balance', announces: vip, awaitsRelease: waits },
    ];
    const results = [result({ host: 'dir1', changes: dir1 }), result({ host: 'dir2', changes: dir2 })];
    const waves = planWaves(results);
    expect(waves.takeovers).toEqual([{ host: 'dir2', address: vip, from: ['dir1'] }]);
    expect(renderPlan(results, { diff: false, check: true, waves }).split('\n').slice(0, 9)).toEqual([
      '== wave 1 of 2: balance (dir1, dir2) ==',
      '',
      'dir1: 1 would change',
      `  ~ address ${vip} on eth0: ${vip}/32 label eth0:1 -> (absent)    [VIP]`,
      '',
      'dir2: 3 would change',
      '  ~ add service TCP 198.51.100.50:80 (wrr)    [pool]',
      `  then, once dir1 let ${vip} go, or, if that is not heard, once nobody answers ARP for it (arping -D) (a second exec):`,
      `  ~ address ${vip} on eth0: (absent) -> ${vip}/32 label eth0:1    [VIP]`,
    ]);
  });

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

  const third = { ...changes[0]!, resource: 'route 198.51.100.9/32', summary: 'route 198.51.100.9/32: (absent) -> dev eth1', commands: ['ip route replace 198.51.100.9/32 dev eth1'] };
  const failedApply = result({ status: 'failed', changes: [changes[0]!, third, changes[1]!], applied: 1, error: { kind: 'apply', message: 'route failed (exit 2)' } });

  it('marks the change that failed and the ones that never ran, with the counts the recap gives', () => {
    const text = renderPlan([failedApply], { diff: false, check: false }).split('\n');
    expect(text).toEqual([
      'rs1: 1 changed, 1 failed, 1 not run (of 3 planned)',
      '  ~ set net.ipv4.ip_forward 0 -> 1    [router: forward]',
      '  ! route 198.51.100.9/32: (absent) -> dev eth1  (FAILED)    [router: forward]',
      '    update /etc/sysctl.d/90-x.conf  (not run)    [persist]',
    ]);
    expect(renderRecap([failedApply], false).split('\n')[1]).toMatch(/^rs1 +: failed +ok=0 {2}changed=1 {2}failed=1 {2}not-run=1 {2}unreachable=0 {2}interrupted=0 /);
  });

  it('counts a host whose probe failed as failed, with its planned changes not run', () => {
    const probe = result({ status: 'failed', changes, applied: 0, error: { kind: 'probe', message: 'ipvsadm: not found' } });
    expect(renderPlan([probe], { diff: false, check: false }).split('\n')[0]).toBe('rs1: 0 changed, 2 not run (of 2 planned)');
    expect(renderRecap([probe], false).split('\n')[1]).toMatch(/ok=0 {2}changed=0 {2}failed=1 {2}not-run=2 /);
  });

  it('prints the commands of each change with -v', () => {
    expect(renderPlan([result({ changes: [third] })], { diff: false, check: true, verbose: true }).split('\n')).toEqual([
      'rs1: 1 would change',
      '  ~ route 198.51.100.9/32: (absent) -> dev eth1    [router: forward]',
      '      $ ip route replace 198.51.100.9/32 dev eth1',
    ]);
  });

  it('recaps every host with its status and the errors after the table', () => {
    const recap = renderRecap(
      [result({ changes }), result({ host: 'director', status: 'unreachable', error: { kind: 'connect', message: 'refused' } })],
      false,
    ).split('\n');
    expect(recap[0]).toBe('RECAP');
    expect(recap[1]).toMatch(/^rs1 {6}: changed +ok=1 {2}changed=2 {2}failed=0 {2}not-run=0 {2}unreachable=0 {2}interrupted=0 /);
    expect(recap[2]).toMatch(/^director : unreachable +ok=0 {2}changed=0 {2}failed=0 {2}not-run=0 {2}unreachable=1 {2}interrupted=0 /);
    expect(recap.at(-1)).toBe('director: unreachable: refused');
  });

  it('shows control characters from host files escaped, in diffs, summaries and values', () => {
    const hostile: HostResult['changes'] = [
      { resource: 'file /etc/motd', summary: 'update /etc/motd', diff: { kind: 'file', before: 'ok\n', after: 'ok\n\u001b[2J\u001b]0;owned\u0007 \\ tab\there\r\n' }, commands: [], task: 't' },
      { resource: 'address x', summary: 'label \u001b[31mred\u202e', diff: { kind: 'value', before: 'lo:\u0000', after: 'lo:0' }, commands: [], task: 't' },
    ];
    const text = renderPlan([result({ changes: hostile })], { diff: true, check: true });
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/);
    const lines = text.split('\n');
    expect(lines).toContain('      +\\e[2J\\e]0;owned\\x07 \\\\ tab\\there\\r');
    expect(lines).toContain('  ~ label \\e[31mred\\u202e    [t]');
    expect(lines).toContain('      - lo:\\x00');
    // A line without control characters keeps its backslashes as they are.
    expect(renderPlan([result({ changes: [{ ...hostile[1]!, summary: 'a \\ b' }] })], { diff: false, check: true })).toContain('  ~ a \\ b    [t]');
  });

  it('cuts a long file diff and says how much was left out', () => {
    const after = Array.from({ length: 500 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const long: HostResult['changes'] = [{ resource: 'file /srv/big', summary: 'create /srv/big', diff: { kind: 'file', before: '', after }, commands: [], task: 't' }];
    const lines = renderPlan([result({ changes: long })], { diff: true, check: true }).split('\n');
    // Header, summary, then 200 diff lines (---, +++, @@ and 197 added lines) and the note.
    expect(lines).toHaveLength(2 + 200 + 1);
    expect(lines.at(-2)).toBe('      +line 196');
    const leftOut = 503 - 200;
    const characters = Array.from({ length: 500 - 197 }, (_, i) => `+line ${i + 197}`.length + 1).reduce((a, b) => a + b, 0);
    expect(lines.at(-1)).toBe(`      ... ${leftOut} more lines of this diff not shown (${characters} characters)`);
  });

  it('cuts a very long line', () => {
    const long: HostResult['changes'] = [{ resource: 'sysctl x', summary: 's', diff: { kind: 'value', before: 'a'.repeat(1000), after: 'b' }, commands: [], task: 't' }];
    const lines = renderPlan([result({ changes: long })], { diff: true, check: true }).split('\n');
    expect(lines[2]).toBe(`      - ${'a'.repeat(398)}... (602 more characters)`);
  });

  it('escapes a failed command output in the recap', () => {
    const recap = renderRecap([result({ status: 'failed', error: { kind: 'apply', message: 'x \u001b[1m failed', output: 'boom\u001b[2J' } })], false);
    expect(recap).toContain('rs1: failed: x \\e[1m failed');
    expect(recap).toContain('    boom\\e[2J');
  });
});

describe('plan rendering in waves', () => {
  const leaving = { service: ['-t', '198.51.100.50:80'], server: '192.0.2.13:80', address: '192.0.2.13' };
  const change = (summary: string, phase: PlannedChange['phase'], extra: Partial<PlannedChange> = {}): PlannedChange => ({ resource: 'x', summary, commands: [], task: 't', phase, ...extra });
  const director = result({
    host: 'director',
    changes: [change('add real server 192.0.2.14:80', 'balance'), change('quiesce real server 192.0.2.13:80', 'balance', { leaving }), change('remove real server 192.0.2.13:80', 'withdraw', { leaving })],
  });
  const rs4 = result({ host: 'rs4', changes: [change('address 198.51.100.50 on lo', 'prepare')] });
  const results = [director, rs4];
  const waves = planWaves(results);

  it('--check shows each wave in order, its hosts, and the drain between balance and withdraw', () => {
    expect(renderPlan(results, { diff: false, check: true, waves, drainTimeout: 300 }).split('\n')).toEqual([
      '== wave 1 of 3: prepare (rs4) ==',
      '',
      'rs4: 1 would change',
      '  ~ address 198.51.100.50 on lo    [t]',
      '',
      '== wave 2 of 3: balance (director) ==',
      '',
      'director: 2 would change',
      '  ~ add real server 192.0.2.14:80    [t]',
      '  ~ quiesce real server 192.0.2.13:80    [t]',
      '',
      'drain, at most 300 s: directors wait until leaving real servers have no active connection',
      '  director: 192.0.2.13:80 in TCP 198.51.100.50:80',
      '',
      '== wave 3 of 3: withdraw (director) ==',
      '',
      'director: 1 would change',
      '  ~ remove real server 192.0.2.13:80    [t]',
    ]);
  });

  it('after the run: how each drain ended, and what was held back and why', () => {
    const drained = { ...director, drains: [{ ...leaving, active: 2, drained: false, seconds: 300 }] };
    const held = { ...rs4, heldBack: [{ summary: 'remove 198.51.100.50 from lo', task: 't', phase: 'retire' as const, reason: 'director director failed before it withdrew 192.0.2.13' }] };
    const text = renderPlan([drained, held], { diff: false, check: false, waves, drainTimeout: 300 });
    expect(text).toContain('  director: 192.0.2.13:80 in TCP 198.51.100.50:80: NOT drained after 300 s, 2 active connection(s) cut');
    expect(text.split('\n').slice(-2)).toEqual([
      'held back (not run, because a host they depend on failed):',
      '  rs4: remove 198.51.100.50 from lo (retire): director director failed before it withdrew 192.0.2.13',
    ]);
    expect(renderPlan([director], { diff: false, check: true, waves, drainTimeout: 0 })).toContain('drain: not waited for (--drain-timeout 0): leaving real servers are cut where still open; directors count them first');
    // Not waited for: what the withdraw cut, as a timed-out drain says it.
    const looked = { ...director, drains: [{ ...leaving, active: 3, drained: false, seconds: 0 }] };
    expect(renderPlan([looked, rs4], { diff: false, check: false, waves, drainTimeout: 0 })).toContain('  director: 192.0.2.13:80 in TCP 198.51.100.50:80: not waited for, 3 active connection(s) cut');
  });

  it('a real server switched from DR to TUN: the drain names the old method, and what a timeout left to be cut', () => {
    const rs3 = { service: ['-t', '198.51.100.50:80'], server: '192.0.2.13:80', address: '192.0.2.13' };
    const switching = result({ host: 'director', changes: [change('real server 192.0.2.13:80 forwarding dr -> tun in TCP 198.51.100.50:80', 'balance', { rebinds: { server: rs3, from: 'dr', to: 'tun' } })] });
    const retiring = result({ host: 'rs3', changes: [change('address 198.51.100.50 on lo: 198.51.100.50/32 label lo -> (absent)', 'retire')] });
    const switched = planWaves([switching, retiring]);
    const text = renderPlan([switching, retiring], { diff: false, check: true, waves: switched, drainTimeout: 300 }).split('\n');
    expect(text).toContain("drain, at most 300 s: directors wait until leaving real servers, and the connections made by a switched server's old forwarding method, have no active connection");
    expect(text).toContain('  director: 192.0.2.13:80 in TCP 198.51.100.50:80 (switched from dr to tun: its connections made by dr)');
    const timedOut = { ...switching, drains: [{ ...rs3, active: 1, drained: false, seconds: 300 }] };
    expect(renderPlan([timedOut, retiring], { diff: false, check: false, waves: switched, drainTimeout: 300 })).toContain('NOT drained after 300 s, 1 active connection(s) by dr cut once its host drops that setup');
  });

  it("a fwmark service's VIP renumbered: its servers drain on the old VIP only, and a timeout says what the VIP's removal cut", () => {
    const marks = [{ mark: 1, address: '198.51.100.51' }, { mark: 1, address: '198.51.100.52' }];
    const rs3 = { service: ['-f', '1'], server: '192.0.2.13:0', address: '192.0.2.13' };
    const unmarks = [{ ...rs3, vips: ['198.51.100.51'] }];
    const marking = result({ host: 'director', changes: [change('nftables table lvsprov_fwmark: 1 mark rule -> 1 mark rule', 'balance', { steers: true, marks, unmarks }), change('address 198.51.100.51 on eth0: 198.51.100.51/32 label eth0 -> (absent)', 'retire', { releases: ['198.51.100.51'] })] });
    const retiring = result({ host: 'rs3', changes: [change('address 198.51.100.51 on lo: 198.51.100.51/32 label lo -> (absent)', 'retire', { releases: ['198.51.100.51'] })] });
    const waves = planWaves([marking, retiring]);
    const text = renderPlan([marking, retiring], { diff: false, check: true, waves, drainTimeout: 300 }).split('\n');
    expect(text).toContain('drain, at most 300 s: directors wait until leaving real servers, and the connections through an address firewall marks leave, have no active connection');
    expect(text).toContain('  director: 192.0.2.13:0 in FWM 1 (kept; its mark leaves 198.51.100.51: its connections through that address)');
    const timedOut = { ...marking, drains: unmarks.map((server) => ({ ...server, active: 2, drained: false, seconds: 300 })) };
    expect(renderPlan([timedOut, retiring], { diff: false, check: false, waves, drainTimeout: 300 })).toContain('NOT drained after 300 s, 2 active connection(s) through 198.51.100.51 cut once a host drops it');
    // The same marks with the VIP kept on every host: nothing to wait for.
    expect(planWaves([result({ host: 'director', changes: [change('nftables table lvsprov_fwmark: 1 mark rule -> 1 mark rule', 'balance', { steers: true, marks, unmarks })] })]).drains).toEqual([]);
  });

  it('a server kept at weight 0 whose daemon restarts in retire: the drain, before retire where no withdraw runs, says it stays and what a timeout cut', () => {
    const rs3 = { service: ['-t', '198.51.100.50:80'], server: '192.0.2.13:80', address: '192.0.2.13' };
    const quiescing = { ...result({ host: 'director', changes: [change('real server 192.0.2.13:80 weight 1 -> 0', 'balance')] }), quiesced: [rs3] };
    const restarting = result({ host: 'rs3', changes: [change('restart lvsprov-web', 'retire', { restartsPool: true })] });
    const kept = planWaves([quiescing, restarting], new Map([['192.0.2.13', 'rs3']]));
    expect(renderPlan([quiescing, restarting], { diff: false, check: true, waves: kept, drainTimeout: 300 }).split('\n')).toEqual([
      '== wave 1 of 2: balance (director) ==',
      '',
      'director: 1 would change',
      '  ~ real server 192.0.2.13:80 weight 1 -> 0    [t]',
      '',
      'drain, at most 300 s: directors wait until leaving real servers, and those kept at weight 0 whose daemon restarts, have no active connection',
      '  director: 192.0.2.13:80 in TCP 198.51.100.50:80 (kept at weight 0: rs3 restarts its daemon in retire)',
      '',
      '== wave 2 of 2: retire (rs3) ==',
      '',
      'rs3: 1 would change',
      '  ~ restart lvsprov-web    [t]',
    ]);
    const timedOut = { ...quiescing, drains: [{ ...rs3, active: 3, drained: false, seconds: 300 }] };
    expect(renderPlan([timedOut, restarting], { diff: false, check: false, waves: kept, drainTimeout: 300 })).toContain(
      '  director: 192.0.2.13:80 in TCP 198.51.100.50:80 (kept at weight 0: rs3 restarts its daemon in retire): NOT drained after 300 s, 3 active connection(s) cut by the restart of its daemon on rs3',
    );
  });

  it("a host that fails in one wave: each wave's part of it counts what ran, failed and never ran, summing to the recap", () => {
    const failing = { ...director, status: 'failed' as const, outcomes: ['made', 'failed', 'not-made'] as HostResult['outcomes'] };
    const lines = renderPlan([failing, rs4], { diff: false, check: false, waves, drainTimeout: 300 }).split('\n');
    expect(lines.filter((line) => line.startsWith('director: '))).toEqual(['director: 1 changed, 1 failed (of 2 planned)', 'director: 0 changed, 1 not run (of 1 planned)']);
    expect(renderRecap([failing], false).split('\n')[1]).toMatch(/ok=0 {2}changed=1 {2}failed=1 {2}not-run=1 /);
  });

  it('one wave and no drain: the plain per-host listing', () => {
    expect(renderPlan([rs4], { diff: false, check: true, waves: planWaves([rs4]) })).toBe('rs4: 1 would change\n  ~ address 198.51.100.50 on lo    [t]');
  });
});
