import { describe, expect, it } from 'vitest';
import { parseRecords } from '../support/request-stream.js';
import { classifyMoveFailures } from '../support/vip-move-failures.js';

// A move of the VIP between plain directors, in the ha-failover e2e's times: the giver's monitor
// stamps the release at 6330, the router names the taker at 6830.
const move = { releasedAt: 6330, switchedAt: 6830 };

const classify = (line: string): string => {
  const { inFlight, inGap, unexplained } = classifyMoveFailures(parseRecords(line), move);
  return inFlight.length > 0 ? 'in flight' : inGap.length > 0 ? 'in the gap' : unexplained.length > 0 ? 'unexplained' : 'none';
};

describe('the failures a move of the VIP explains', () => {
  it.each([
    // Seen in CI: sent 2 ms after the release's stamp, its SYN still taken by the giver, the
    // request's second retransmission reset by the taker.
    ['connected through the giver after the stamp of the release', '6332 6333 7230 failed read_ECONNRESET', 'in flight'],
    ['sent before the release, ended after it', '6200 6201 6900 failed read_ECONNRESET', 'in flight'],
    ['sent before the release, never connected, ended after it', '6300 - 9300 failed no_answer_within_3000_ms', 'in flight'],
    ['connected through the taker, then failed', '6840 6842 6900 failed read_ECONNRESET', 'unexplained'],
    ['sent after the release, never connected, its retransmission after the switch', '6400 - 9400 failed no_answer_within_3000_ms', 'unexplained'],
    ['connected through the giver, failed before the release', '6000 6001 6100 failed read_ECONNRESET', 'unexplained'],
    ['refused by the giver before the release', '6100 - 6102 failed connect_ECONNREFUSED', 'unexplained'],
  ])('%s', (_what, line, expected) => {
    expect(classify(line)).toBe(expected);
  });

  it('a request in the gap needs its SYN retransmission, too, before the router named the taker', () => {
    const early = { releasedAt: 6330, switchedAt: 8000 };
    const { inGap, unexplained } = classifyMoveFailures(parseRecords(['6400 - 9400 failed no_answer_within_3000_ms', '7100 - 10100 failed no_answer_within_3000_ms'].join('\n')), early);
    expect(inGap.map((record) => record.sent)).toEqual([6400]);
    expect(unexplained.map((record) => record.sent)).toEqual([7100]);
  });
});
