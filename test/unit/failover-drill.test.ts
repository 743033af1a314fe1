import { describe, expect, it } from 'vitest';
import type { HaDirector, VrrpGroup } from '../../src/config/ha-model.js';
import { renderFailover } from '../../src/report/failover-text.js';
import { planDrill, type DirectorSeen } from '../../src/verify/failover/drill-plan.js';
import { outage, worstOutage, type RequestRecord } from '../../src/verify/failover/outage.js';
import type { FailoverReport } from '../../src/verify/failover/report.js';
import { judgePhase } from '../../src/verify/failover/verdict.js';

// verify --failover's pure parts: the gap arithmetic over the client's records, the drill's plan
// from what the directors showed, the verdict on a phase, and the report's text.

const record = (sent: number, done: number, ok: boolean, detail = ok ? 'rs1' : 'no answer within 3000 ms', target = 0): RequestRecord => ({ target, sent, done, ok, detail });

// An outage of the kind a failover makes: answers stop at 1150, two requests are lost, one is
// answered late after its SYN was sent again, then answers resume.
const failover = [
  record(1000, 1020, true),
  record(1100, 1130, true),
  record(1200, 4200, false),
  record(1300, 2310, true),
  record(1400, 4400, false),
  record(2400, 2420, true),
  record(2500, 2520, true),
];

const preemption = [record(2200, 2210, true), record(2300, 2490, true, 'rs2'), record(2520, 2560, false, 'read ECONNRESET'), record(2600, 2620, true), record(2700, 2720, true, 'rs2')];

describe('the gap a handover leaves', () => {
  it.each([
    { why: 'from the window start (the action) to the first answer after it', records: failover, from: 1150, to: 2600, gap: 1160, lastBefore: 1150, firstAfter: 2310, failed: [1200, 1400], after: [] },
    { why: 'an outage still going on at the window end counts up to it', records: failover, from: 1150, to: 1250, gap: 100, lastBefore: 1150, firstAfter: 1250, failed: [1200], after: [] },
    { why: 'a failure after the answers came back is named', records: [...failover, record(3000, 6000, false, 'connect ECONNREFUSED')], from: 1150, to: 3100, gap: 1160, lastBefore: 1150, firstAfter: 2310, failed: [1200, 1400, 3000], after: [3000] },
    { why: 'no answer at all after the window opened', records: [record(1000, 1010, true)], from: 1050, to: 5000, gap: 3950, lastBefore: 1050, firstAfter: 5000, failed: [], after: [] },
    { why: 'no answer before either: the gap starts at the window', records: [record(2000, 2100, true)], from: 1000, to: 2200, gap: 1100, lastBefore: 1000, firstAfter: 2100, failed: [], after: [] },
    // A preemption: the longest gap (a slow answer) comes before the VIP moves at 2530; the request
    // in flight then is reset by the new holder, which never saw its SYN.
    { why: 'a request in flight when the VIP moved is not a failure after the handover', records: preemption, from: 2250, to: 2750, switchedAt: 2530, gap: 240, lastBefore: 2250, firstAfter: 2490, failed: [2520], after: [] },
    { why: 'without the switch time, the same request counts after the gap', records: preemption, from: 2250, to: 2750, gap: 240, lastBefore: 2250, firstAfter: 2490, failed: [2520], after: [2520] },
    { why: 'a failure after the switch still counts', records: [record(2300, 2310, true), record(2400, 2600, true), record(2650, 2660, false, 'read ECONNRESET'), record(2700, 2720, true)], from: 2350, to: 2750, switchedAt: 2450, gap: 250, lastBefore: 2350, firstAfter: 2600, failed: [2650], after: [2650] },
  ])('$why', ({ records, from, to, switchedAt, gap, lastBefore, firstAfter, failed, after }) => {
    const seen = outage(records, from, to, switchedAt);
    expect(seen).toMatchObject({ gapMs: gap, lastBefore, firstAfter });
    expect(seen.failed.map((entry) => entry.sent)).toEqual(failed);
    expect(seen.failedAfterHandover.map((entry) => entry.sent)).toEqual(after);
  });

  it('a silence already under way at the action is said apart, never counted in the gap', () => {
    // Answers stopped 560 ms before the action (a slow or failing service), and came back 1160 ms after it.
    const quiet = [record(500, 590, true), record(600, 3600, false), record(700, 3700, false), record(1200, 2310, true)];
    const seen = outage(quiet, 1150, 2600);
    expect(seen).toMatchObject({ gapMs: 1160, lastBefore: 1150, firstAfter: 2310, quietBeforeMs: 560 });
    const phase = judgePhase({ kind: 'failover', action: 'stop keepalived on dir1', expected: 'dir2', vips: [VIP], actionAt: 1150, heldAt: 1900, seen, holders: ['dir2'], maxGapMs: 5000, intervalMs: 100 });
    expect(phase).toMatchObject({ gapSeconds: 1.16, gapFromSeconds: 0, gapToSeconds: 1.16, quietBeforeSeconds: 0.56 });
    // The usual stream: the last answer one interval before the action is no news.
    expect(judgePhase({ kind: 'failover', action: 'stop keepalived on dir1', expected: 'dir2', vips: [VIP], actionAt: 1150, seen: outage(failover, 1150, 2600), holders: ['dir2'], maxGapMs: 5000, intervalMs: 100 }).quietBeforeSeconds).toBeUndefined();
    expect(worstOutage(quiet, 1, 1150, 2600).quietBeforeMs).toBe(560);
  });

  it('over several VIPs the worst gap counts, and every request', () => {
    const second = [record(1000, 1010, true, 'rs2', 1), record(1100, 1110, true, 'rs2', 1), record(1200, 1210, true, 'rs2', 1), record(1300, 3300, false, 'x', 1)];
    const seen = worstOutage([...failover, ...second], 2, 1150, 2600);
    expect(seen.gapMs).toBe(1390); // target 1: 1210 to the window's end at 2600
    expect(seen.answeredAfter).toBe(true);
    expect(seen.total).toBe(5 + 2);
    expect(seen.failed).toHaveLength(3);
  });
});

const director = (host: string, priority: number, extra: Partial<HaDirector> = {}): HaDirector => ({ host, address: `192.0.2.${priority % 200}`, priority, state: 'BACKUP', nopreempt: false, ...extra });
const group = (directors: HaDirector[], vips = ['198.51.100.50']): VrrpGroup => ({ virtualRouterId: 51, vips: vips.map((address) => ({ address })), directors, nat: false });
const seen = (host: string, holds: string[], running: boolean | 'unread' = true): DirectorSeen => ({ host, holds, ...(running !== 'unread' ? { running } : { error: 'connect ECONNREFUSED' }) });
const VIP = '198.51.100.50';

describe('the drill plan', () => {
  it.each([
    { why: 'the master preempts on return', directors: [director('dir1', 254, { state: 'MASTER' }), director('dir2', 253)], seen: [seen('dir1', [VIP]), seen('dir2', [])], master: 'dir1', backup: 'dir2', preempts: true, back: { kind: 'await-holder', holder: 'dir1' }, last: 'dir1' },
    { why: 'nopreempt: the backup keeps the VIP', directors: [director('dir1', 254, { nopreempt: true }), director('dir2', 253)], seen: [seen('dir1', [VIP]), seen('dir2', [])], master: 'dir1', backup: 'dir2', preempts: false, back: { kind: 'await-standby', host: 'dir1', holder: 'dir2' }, last: 'dir2' },
    { why: 'a lower-priority master (it kept the VIP by nopreempt) does not take it back', directors: [director('dir1', 254), director('dir2', 200, { nopreempt: true })], seen: [seen('dir1', []), seen('dir2', [VIP])], master: 'dir2', backup: 'dir1', preempts: false, back: { kind: 'await-standby', host: 'dir2', holder: 'dir1' }, last: 'dir1' },
    { why: 'three directors: VRRP elects the running one with the highest priority', directors: [director('dir1', 150), director('dir2', 130), director('dir3', 140)], seen: [seen('dir1', [VIP]), seen('dir2', []), seen('dir3', [])], master: 'dir1', backup: 'dir3', preempts: true, back: { kind: 'await-holder', holder: 'dir1' }, last: 'dir1' },
    { why: 'a stopped director is not the backup', directors: [director('dir1', 150), director('dir2', 140), director('dir3', 130)], seen: [seen('dir1', [VIP]), seen('dir2', [], false), seen('dir3', [])], master: 'dir1', backup: 'dir3', preempts: true, back: { kind: 'await-holder', holder: 'dir1' }, last: 'dir1' },
  ])('$why', ({ directors, seen: observed, master, backup, preempts, back, last }) => {
    const decision = planDrill(group(directors), observed);
    if (!('plan' in decision)) throw new Error(decision.refused);
    expect(decision.plan).toMatchObject({ instance: 'VI_51', master: { host: master }, backup: { host: backup }, preempts });
    expect(decision.plan.steps).toEqual([
      { kind: 'stop', host: master },
      { kind: 'await-holder', holder: backup },
      { kind: 'check', holder: backup },
      { kind: 'start', host: master },
      back,
      { kind: 'check', holder: last },
    ]);
  });

  it.each([
    { why: 'no master', seen: [seen('dir1', []), seen('dir2', [])], refused: /no director holds 198\.51\.100\.50: no VRRP master/ },
    { why: 'split brain', seen: [seen('dir1', [VIP]), seen('dir2', [VIP])], refused: /split brain: dir1 and dir2 hold/ },
    { why: 'a VIP left by a killed keepalived', seen: [seen('dir1', [VIP], false), seen('dir2', [])], refused: /keepalived is not running there/ },
    { why: 'no backup running', seen: [seen('dir1', [VIP]), seen('dir2', [], false)], refused: /keepalived runs on no backup \(dir2\): stopping it on dir1 would leave/ },
    { why: 'a director that cannot be read', seen: [seen('dir1', [VIP]), seen('dir2', [], 'unread')], refused: /cannot read dir2 \(connect ECONNREFUSED\)/ },
    { why: 'an instance half moved', seen: [seen('dir1', [VIP]), seen('dir2', [])], vips: [VIP, '198.51.100.60'], refused: /dir1 holds 198\.51\.100\.50 but not 198\.51\.100\.60/ },
  ])('refused: $why', ({ seen: observed, vips, refused }) => {
    const decision = planDrill(group([director('dir1', 150), director('dir2', 140)], vips), observed);
    expect('refused' in decision ? decision.refused : 'planned').toMatch(refused);
  });
});

describe('the verdict on a phase', () => {
  const base = { kind: 'failover' as const, action: 'stop keepalived on dir1', expected: 'dir2', vips: [VIP], actionAt: 1150, heldAt: 1900, maxGapMs: 5000 };
  it.each([
    { why: 'a short gap, the backup alone', input: { seen: outage(failover, 1150, 2600), holders: ['dir2'] }, problems: [] },
    { why: 'a gap over --max-gap', input: { seen: outage(failover, 1150, 2600), holders: ['dir2'], maxGapMs: 1 }, problems: ['longest gap 1.16 s exceeds --max-gap 0.001 s'] },
    { why: 'a request failed after the handover', input: { seen: outage([...failover, record(3000, 6000, false, 'connect ECONNREFUSED')], 1150, 3100), holders: ['dir2'] }, problems: ['1 request(s) failed after the handover completed (connect ECONNREFUSED)'] },
    { why: 'a request reset while the drill had not yet seen the new holder is counted, not held against the handover', input: { seen: outage([...failover, record(3000, 3050, false, 'aborted')], 1150, 3100, 3500), holders: ['dir2'], heldAt: 3500 }, problems: [] },
    { why: 'split brain', input: { seen: outage(failover, 1150, 2600), holders: ['dir1', 'dir2'] }, problems: ['split brain: dir1 and dir2 hold 198.51.100.50 at once'] },
    { why: 'nobody', input: { seen: outage(failover, 1150, 2600), holders: [] }, problems: ['no director holds 198.51.100.50: no VRRP master'] },
    { why: 'the wrong director', input: { seen: outage(failover, 1150, 2600), holders: ['dir3'] }, problems: ['dir3 holds 198.51.100.50, not dir2 as VRRP should have chosen'] },
    { why: 'no answer after the action', input: { seen: outage([record(1000, 1010, true)], 1150, 2600), holders: ['dir2'], waitProblem: 'no request sent after dir2 took 198.51.100.50 was answered within 30 s' }, problems: ['no request sent after dir2 took 198.51.100.50 was answered within 30 s', 'no request was answered after stop keepalived on dir1'] },
  ])('$why', ({ input, problems }) => {
    const phase = judgePhase({ ...base, ...input });
    expect(phase.problems).toEqual(problems);
    expect(phase.lateFailures).toHaveLength(phase.failedAfterHandover);
    expect(phase.status).toBe(problems.length === 0 ? 'pass' : 'fail');
  });

  it('gives its figures in seconds from the action', () => {
    expect(judgePhase({ ...base, seen: outage(failover, 1150, 2600), holders: ['dir2'] })).toMatchObject({
      heldAfterSeconds: 0.75,
      gapSeconds: 1.16,
      gapFromSeconds: 0,
      gapToSeconds: 1.16,
      sent: 5,
      failed: 2,
      handoverCompletedSeconds: 1.16,
      failedAfterHandover: 0,
      reasons: ['no answer within 3000 ms'],
    });
  });
});

describe('the report as text', () => {
  const phase = (kind: 'failover' | 'return', action: string, holders: string[], gap: number, problems: string[] = []) =>
    judgePhase({ kind, action, expected: holders[0] ?? 'dir2', vips: [VIP], actionAt: 1150, heldAt: 1900, seen: outage(failover, 1150, 1150 + gap), holders, maxGapMs: 5000, ...(problems[0] ? { waitProblem: problems[0] } : {}) });
  const report = (drills: FailoverReport['drills'], failures: string[] = []): FailoverReport => ({ cluster: 'lab-ha', client: 'client', ratePerSecond: 10, maxGapSeconds: 5, drills, hosts: [], failures, unreachable: [], interrupted: false, seconds: 21.4 });

  it('a passed drill: master, backup, a row per phase with its figures', () => {
    const text = renderFailover(
      report([{ instance: 'VI_51', vips: [VIP], urls: ['http://198.51.100.50:80/'], master: 'dir1', backup: 'dir2', preempts: true, status: 'pass', phases: [phase('failover', 'stop keepalived on dir1', ['dir2'], 1450), phase('return', 'start keepalived on dir1', ['dir1'], 1450)], problems: [] }]),
    );
    expect(text).toBe(
      [
        'verify --failover lab-ha: requests from client, 10 per second; max gap 5 s',
        '',
        'VRRP VI_51  198.51.100.50  PASS',
        '  requests to http://198.51.100.50:80/',
        '  master dir1, backup dir2; dir1 takes the VIPs back when it returns (preemption)',
        '  action                    held by  held after  longest gap  gap (from the action)  failed  after handover  verdict',
        '  stop keepalived on dir1   dir2         0.75 s       1.16 s  0.00 s to 1.16 s       2 of 5               0  PASS',
        '  start keepalived on dir1  dir1         0.75 s       1.16 s  0.00 s to 1.16 s       2 of 5               0  PASS',
        '  stop keepalived on dir1: failed requests: no answer within 3000 ms',
        '  start keepalived on dir1: failed requests: no answer within 3000 ms',
        '',
        'RESULT: PASS  21.4s',
      ].join('\n'),
    );
  });

  it('a refused drill and one that left keepalived stopped say why, and the result fails', () => {
    const text = renderFailover(
      report(
        [
          { instance: 'VI_51', vips: [VIP], urls: [], status: 'refused', phases: [], problems: ['split brain: dir1 and dir2 hold 198.51.100.50 at once; fix that before a drill'] },
          { instance: 'VI_52', vips: ['198.51.100.60'], urls: [], master: 'dir1', backup: 'dir2', preempts: false, status: 'fail', phases: [], problems: ['starting keepalived on dir1 again failed (the host could not be reached)'], leftBehind: 'keepalived is stopped on dir1' },
        ],
        ['VI_51: split brain', 'VI_52: starting keepalived on dir1 again failed'],
      ),
    );
    expect(text).toContain('VRRP VI_51  198.51.100.50  REFUSED\n  ! split brain: dir1 and dir2 hold 198.51.100.50 at once; fix that before a drill');
    expect(text).toContain('  master dir1, backup dir2; dir2 keeps the VIPs when dir1 returns (no preemption)');
    expect(text).toContain('  ! left behind: keepalived is stopped on dir1');
    expect(text).toContain('RESULT: FAIL (2 problems)  21.4s\n  - VI_51: split brain\n  - VI_52: starting keepalived on dir1 again failed');
  });

  it('names each request that failed after the handover, with when it was sent and ended', () => {
    const late = judgePhase({ kind: 'return', action: 'start keepalived on dir1', expected: 'dir1', vips: [VIP], actionAt: 1150, seen: outage([...failover, record(3000, 3050, false, 'aborted')], 1150, 3100), holders: ['dir1'], maxGapMs: 5000 });
    const text = renderFailover(report([{ instance: 'VI_51', vips: [VIP], urls: [], master: 'dir1', backup: 'dir2', preempts: true, status: 'fail', phases: [late], problems: late.problems }]));
    expect(text).toContain('  start keepalived on dir1: after the handover, sent at 1.85 s, ended at 1.90 s: aborted');
    expect(text).toContain('  ! 1 request(s) failed after the handover completed (aborted)');
  });
});
