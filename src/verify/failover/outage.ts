// What a client sending a request at a fixed rate saw while a director handed its VIP over: the
// longest time without an answer (from the last answer before to the first after) and the
// requests that failed, in particular those sent after the handover was complete. Times are in
// milliseconds of the client's clock, the only clock every record shares.

export interface RequestRecord {
  /** Which URL of the stream this request went to (its place in the stream's list; absent: the only one). */
  readonly target?: number;
  readonly sent: number;
  readonly done: number;
  readonly ok: boolean;
  /** The server that answered, or why the request failed. */
  readonly detail: string;
}

export interface Outage<R extends RequestRecord = RequestRecord> {
  /** The longest time without an answer from the window's start on: between two answers in a row, by when they came. */
  readonly gapMs: number;
  /** When that gap began (the last answer before it, or the window's start) and the first answer after it came. */
  readonly lastBefore: number;
  readonly firstAfter: number;
  /**
   * How long before the window's start the last answer came (absent: none came before it). Only
   * the window is the action's: a silence already under way when it opened (requests failing or
   * slow before the action) is said apart, never counted in the gap.
   */
  readonly quietBeforeMs?: number;
  /** Whether an answer came after the window opened (else the outage lasts to the window's end). */
  readonly answeredAfter: boolean;
  /** Requests sent in the window. */
  readonly total: number;
  /** Requests sent in the window that failed. */
  readonly failed: readonly R[];
  /** When the handover was over: the later of the gap's end and `switchedAt`. */
  readonly completedAt: number;
  /**
   * Of the failed requests, the ones sent once the handover was over. There must be none. A
   * request in flight through the old holder when the VIP moved is not among them: its next
   * packet reaches a director that never saw its SYN, whose kernel resets it (the directors do
   * not synchronise connections); it counts in `failed`.
   */
  readonly failedAfterHandover: readonly R[];
}

/**
 * What the records show from `from` (the action) to `to`: the longest gap between answers, a gap
 * under way at `from` counted from `from` (the time without an answer before it is the action's
 * doing no more than the traffic's: `quietBeforeMs`), and the requests that failed. An outage still going on at `to` counts up to `to`. `switchedAt`, when
 * known, is when the VIP's new holder was reached: at a preemption the longest gap may come
 * before the VIP moves.
 */
export function outage<R extends RequestRecord>(records: readonly R[], from: number, to: number, switchedAt = from): Outage<R> {
  const answers = records
    .filter((record) => record.ok)
    .map((record) => record.done)
    .sort((a, b) => a - b);
  const before = answers.filter((done) => done < from).at(-1);
  const during = answers.filter((done) => done >= from && done <= to);
  // The silence counts from the window's start; `to` closes it: an outage still going on at its
  // end counts up to there.
  const times = [from, ...during, to];
  let lastBefore = times[0] as number;
  let firstAfter = times.length > 1 ? (times[1] as number) : to;
  for (let index = 1; index < times.length; index += 1) {
    const gap = (times[index] as number) - (times[index - 1] as number);
    if (gap > firstAfter - lastBefore) {
      lastBefore = times[index - 1] as number;
      firstAfter = times[index] as number;
    }
  }
  const sent = records.filter((record) => record.sent >= from && record.sent <= to);
  const failed = sent.filter((record) => !record.ok);
  const completedAt = Math.max(firstAfter, switchedAt);
  return {
    gapMs: firstAfter - lastBefore,
    lastBefore,
    firstAfter,
    ...(before !== undefined ? { quietBeforeMs: from - before } : {}),
    answeredAfter: during.length > 0,
    total: sent.length,
    failed,
    completedAt,
    failedAfterHandover: failed.filter((record) => record.sent >= completedAt),
  };
}

/** The worst of several targets' outages (the longest gap), with every target's requests counted. */
export function worstOutage(records: readonly RequestRecord[], targets: number, from: number, to: number, switchedAt = from): Outage {
  const each = Array.from({ length: Math.max(1, targets) }, (_, target) => outage(records.filter((record) => (record.target ?? 0) === target), from, to, switchedAt));
  const worst = each.reduce((a, b) => (b.gapMs > a.gapMs ? b : a));
  const quiet = each.map((seen) => seen.quietBeforeMs ?? 0);
  const { quietBeforeMs: _worstQuiet, ...rest } = worst;
  return {
    ...rest,
    ...(each.some((seen) => seen.quietBeforeMs !== undefined) ? { quietBeforeMs: Math.max(...quiet) } : {}),
    answeredAfter: each.every((seen) => seen.answeredAfter),
    total: each.reduce((sum, seen) => sum + seen.total, 0),
    failed: each.flatMap((seen) => seen.failed),
    completedAt: Math.max(...each.map((seen) => seen.completedAt)),
    failedAfterHandover: each.flatMap((seen) => seen.failedAfterHandover),
  };
}
