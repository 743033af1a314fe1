import { describe, expect, it } from 'vitest';
import { outage, parseRecords } from '../support/request-stream.js';

// The failover e2e judges a director handover by the request stream's log: these are lines in
// its format, with an outage of the kind a failover makes (answers stop, some requests time out,
// one is answered late after its SYN was sent again, then answers resume).

const log = [
  '1000 1020 ok rs1',
  '1100 1130 ok rs2',
  // dir1 stops at 1150: these go to it and are lost or answered late.
  '1200 4200 failed no_answer_within_3000_ms',
  '1300 2310 ok rs1',
  '1400 4400 failed no_answer_within_3000_ms',
  '2400 2420 ok rs2',
  '2500 2520 ok rs1',
  'garbage line',
].join('\n');

describe('the request stream', () => {
  it('parses its log lines, spaces in reasons restored, other lines ignored', () => {
    const records = parseRecords(log);
    expect(records).toHaveLength(7);
    expect(records[2]).toEqual({ sent: 1200, done: 4200, ok: false, detail: 'no answer within 3000 ms' });
  });

  it('reads when each request connected, and `-` for one that never did', () => {
    const records = parseRecords(['1000 1002 1020 ok rs1', '1100 - 4100 failed no_answer_within_3000_ms', '1200 1201 2100 failed read_ECONNRESET'].join('\n'));
    expect(records).toEqual([
      { sent: 1000, connected: 1002, done: 1020, ok: true, detail: 'rs1' },
      { sent: 1100, done: 4100, ok: false, detail: 'no answer within 3000 ms' },
      { sent: 1200, connected: 1201, done: 2100, ok: false, detail: 'read ECONNRESET' },
    ]);
  });

  it('measures the gap from the window start to the first answer after it, and the failures after it', () => {
    const seen = outage(parseRecords(log), 1150, 2600);
    expect(seen).toMatchObject({ gapMs: 1160, lastBefore: 1150, firstAfter: 2310, quietBeforeMs: 20, total: 5 });
    expect(seen.failed.map((record) => record.sent)).toEqual([1200, 1400]);
    expect(seen.failedAfterHandover).toEqual([]);
  });

  it('an outage still going on at the end of the window counts up to it; failures after the gap are named', () => {
    expect(outage(parseRecords(log), 1150, 1250).gapMs).toBe(100);
    const late = parseRecords(`${log}\n3000 6000 failed connect_ECONNREFUSED`);
    expect(outage(late, 1150, 3100).failedAfterHandover.map((record) => record.sent)).toEqual([3000]);
    expect(outage(parseRecords('1000 1010 ok rs1'), 1050, 5000).gapMs).toBe(3950);
  });

  it('a request in flight when the VIP moved, reset by the new holder, fails before the handover, not after it', () => {
    // A preemption: the longest gap (a slow answer) comes before the VIP moves at 2530.
    const moved = parseRecords(['2200 2210 ok rs1', '2300 2490 ok rs2', '2520 2560 failed read_ECONNRESET', '2600 2620 ok rs1', '2700 2720 ok rs2'].join('\n'));
    expect(outage(moved, 2250, 2750).failedAfterHandover.map((record) => record.sent)).toEqual([2520]);
    expect(outage(moved, 2250, 2750, 2530).failedAfterHandover).toEqual([]);
    expect(outage(moved, 2250, 2750, 2530).failed.map((record) => record.sent)).toEqual([2520]);
    // A failure after the switch still counts.
    const later = parseRecords(['2300 2310 ok rs1', '2400 2600 ok rs2', '2650 2660 failed read_ECONNRESET', '2700 2720 ok rs1'].join('\n'));
    expect(outage(later, 2350, 2750, 2450).failedAfterHandover.map((record) => record.sent)).toEqual([2650]);
  });
});
