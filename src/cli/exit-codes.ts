import type { HostResult } from '../engine/events.js';

/** Documented in the README; scripts depend on them. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  hostsFailed: 2,
  hostsUnreachable: 3,
  invalidInput: 4,
} as const;

export function exitCodeFor(results: readonly HostResult[]): number {
  if (results.some((result) => result.status === 'failed')) return ExitCode.hostsFailed;
  if (results.some((result) => result.status === 'unreachable')) return ExitCode.hostsUnreachable;
  return ExitCode.ok;
}
