import type { HostResult } from '../engine/events.js';
import type { FailoverReport } from '../verify/failover/report.js';
import type { VerifyReport } from '../verify/report.js';

/** Documented in the README; scripts depend on them. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  hostsFailed: 2,
  hostsUnreachable: 3,
  invalidInput: 4,
  /** verify: a server never answered, a split was out of tolerance, a page was wrong, a non-director answered ARP, or a failover drill failed. */
  verifyFailed: 5,
  /** apply/reset --exit-code: every host succeeded and at least one changed (with --check: would change). */
  changesPending: 6,
  /** SIGINT, SIGTERM or SIGHUP stopped the run (128 + 2, as shells report SIGINT). */
  interrupted: 130,
} as const;

export function exitCodeFor(results: readonly HostResult[], interrupted = false, options: { readonly changesPending?: boolean } = {}): number {
  if (interrupted || results.some((result) => result.status === 'interrupted')) return ExitCode.interrupted;
  if (results.some((result) => result.status === 'failed')) return ExitCode.hostsFailed;
  if (results.some((result) => result.status === 'unreachable')) return ExitCode.hostsUnreachable;
  if (options.changesPending && results.some((result) => result.changes.length > 0)) return ExitCode.changesPending;
  return ExitCode.ok;
}

/** A failed check outranks an unreachable host, as a failed host does for apply. */
export function exitCodeForVerify(report: VerifyReport): number {
  if (report.failures.length > 0) return ExitCode.verifyFailed;
  if (report.unreachable.length > 0) return ExitCode.hostsUnreachable;
  return ExitCode.ok;
}

/** verify --failover: an interruption first (keepalived was put back, the drill is incomplete), then as verify. */
export function exitCodeForFailover(report: FailoverReport): number {
  if (report.interrupted) return ExitCode.interrupted;
  if (report.failures.length > 0) return ExitCode.verifyFailed;
  if (report.unreachable.length > 0 || report.drills.some((drill) => drill.status === 'not-run')) return ExitCode.hostsUnreachable;
  return ExitCode.ok;
}
