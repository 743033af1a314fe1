import type { StreamRecord } from './request-stream.js';

/** A client's first SYN retransmission comes this long after the SYN (Linux's initial RTO). */
export const SYN_RETRY_MS = 1000;

/** When the VIP moved between two plain directors, by the kernels' own records. */
export interface VipMove {
  /** The giver took the VIP off (ip monitor on the giver). */
  readonly releasedAt: number;
  /** The router's entry for the VIP first named the taker (ip monitor or a poller on the router). */
  readonly switchedAt: number;
}

/** The failed requests of a move of the VIP, by what explains them. */
export interface MoveFailures {
  /** In flight through the giver when it let the VIP go: the taker, which never saw their SYN, resets them. */
  readonly inFlight: readonly StreamRecord[];
  /** Never connected: their SYN, and its retransmission a second later, went before the router named the taker. */
  readonly inGap: readonly StreamRecord[];
  /** Failed for nothing the move explains: a fault. */
  readonly unexplained: readonly StreamRecord[];
}

/**
 * Which failures a move of the VIP between plain directors (no shared connection state) explains.
 * Until the router names the taker, every packet for the VIP goes to the giver: a request whose
 * handshake completed before then was taken by the giver's IPVS, so it was in flight through the
 * giver; if it ended after the release, the move may have broken it. That holds whatever the stamps'
 * lag: the release is stamped when the giver's monitor gets to read it, under load some milliseconds
 * after the kernel removed the address, and a SYN that reached the giver in those milliseconds was
 * still taken (seen twice: sent 2 and 7 ms after the stamp, connected, then reset by the taker
 * 0.90-0.94 s later, at the second retransmission of their request). A request sent before the
 * release that ended after it is in flight too, connected or not. One that never connected,
 * sent after the release, is explained if its retransmitted SYN, too, went before the router named
 * the taker. Anything else is a fault.
 */
export function classifyMoveFailures(failed: readonly StreamRecord[], { releasedAt, switchedAt }: VipMove): MoveFailures {
  const throughGiver = (record: StreamRecord): boolean => record.connected !== undefined && record.connected < switchedAt;
  const inFlight = failed.filter((record) => record.done >= releasedAt && (record.sent <= releasedAt || throughGiver(record)));
  const inGap = failed.filter((record) => !inFlight.includes(record) && record.connected === undefined && record.sent > releasedAt && record.sent < switchedAt - SYN_RETRY_MS);
  return { inFlight, inGap, unexplained: failed.filter((record) => !inFlight.includes(record) && !inGap.includes(record)) };
}
