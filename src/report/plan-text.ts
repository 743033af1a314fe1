import { createTwoFilesPatch } from 'diff';
import { own } from '../config/own.js';
import type { HostResult, PlannedChange } from '../engine/events.js';
import { phaseOf, phaseRank } from '../engine/host-plan.js';
import type { WavePlan } from '../engine/wave-plan.js';
import type { ChangePhase, RealServerRef } from '../resources/types.js';
import { changeCounts } from './recap.js';
import { escapeControls, limitLines } from './safe-text.js';

// The plan as a person reads it: per host, one line per change, and with --diff the exact edit -
// a unified diff for files, before -> after for values. Everything read from a host is escaped
// and long diffs are cut (safe-text.ts). A plan of more than one wave is shown wave by wave, in
// the order they run, with each drain where it happens.

export interface RenderOptions {
  readonly diff: boolean;
  readonly check: boolean;
  /** The run's waves; without it (or with one wave and no drain) hosts are listed one block each. */
  readonly waves?: WavePlan;
  readonly drainTimeout?: number;
  /** -v: the commands each change runs, under it. */
  readonly verbose?: boolean;
}

function fileLabel(change: PlannedChange): string {
  return change.resource.replace(/^[a-z]+ /, '');
}

export function renderDiff(change: PlannedChange): string[] {
  if (!change.diff) return [];
  if (change.diff.kind === 'file') {
    const label = fileLabel(change);
    const patch = createTwoFilesPatch(`${label} (current)`, `${label} (planned)`, change.diff.before, change.diff.after, undefined, undefined, {
      context: 3,
    });
    // Drop the `Index:`/`===` preamble the diff library writes; keep ---/+++ and the hunks.
    const lines = patch.split('\n').filter((line) => line !== '' && !line.startsWith('Index: ') && !/^=+$/.test(line));
    return limitLines(lines).map((line) => `      ${line}`);
  }
  return limitLines([`- ${change.diff.before}`, `+ ${change.diff.after}`]).map((line) => `      ${line}`);
}

/** The same counts the recap gives: a failed host changed only what ran before the failure. */
export function planHeadline(result: HostResult, check: boolean): string {
  if (check) return `${result.changes.length} would change`;
  const counts = changeCounts(result);
  if (counts.changed === result.changes.length) return `${result.changes.length} changed`;
  const failedChange = result.outcomes ? result.outcomes.includes('failed') : result.status === 'failed' && result.error?.kind === 'apply';
  const parts = [`${counts.changed} changed`, ...(failedChange ? ['1 failed'] : []), ...(counts.notRun > 0 ? [`${counts.notRun} not run`] : []), ...(counts.unknown > 0 ? [`${counts.unknown} unknown`] : [])];
  return `${parts.join(', ')} (of ${result.changes.length} planned)`;
}

type ChangeOutcome = 'made' | 'failed' | 'not-run' | 'unknown';

/** What became of one planned change: from the host's outcomes, else from how far the apply got. */
function outcomeOf(result: HostResult, index: number, check: boolean): ChangeOutcome {
  const outcome = result.outcomes?.[index];
  if (outcome) return outcome === 'not-made' ? 'not-run' : outcome;
  if (check || result.status !== 'failed') return 'made';
  return index === result.applied ? 'failed' : index > result.applied ? 'not-run' : 'made';
}

/** A wave's part of a host, counted like the recap counts the whole host. */
function waveHeadline(result: HostResult, indexes: readonly number[], check: boolean): string {
  if (check) return `${indexes.length} would change`;
  const outcomes = indexes.map((index) => outcomeOf(result, index, check));
  const count = (wanted: ChangeOutcome): number => outcomes.filter((outcome) => outcome === wanted).length;
  if (count('made') === indexes.length) return `${indexes.length} changed`;
  const parts = [`${count('made')} changed`, ...(count('failed') > 0 ? [`${count('failed')} failed`] : []), ...(count('not-run') > 0 ? [`${count('not-run')} not run`] : []), ...(count('unknown') > 0 ? [`${count('unknown')} unknown`] : [])];
  return `${parts.join(', ')} (of ${indexes.length} planned)`;
}

/** The host's changes (of one wave, or all), each marked by whether it ran. */
export function renderHostPlan(result: HostResult, options: RenderOptions, phase?: ChangePhase): string[] {
  const indexed = result.changes.map((change, index) => ({ change, index })).filter(({ change }) => phase === undefined || phaseOf(change) === phase);
  if (indexed.length === 0) return [];
  // A whole host is headed with the recap's counts; a wave's part of it with the same counts over its changes.
  const headline = phase === undefined ? planHeadline(result, options.check) : waveHeadline(result, indexed.map(({ index }) => index), options.check);
  const lines = [`${result.host}: ${headline}`];
  indexed.forEach(({ change, index }, at) => {
    // A VIP taken over from another director: its own exec, once the old holder let it go, or,
    // where that is not known, once the segment shows nobody holds it (engine/vip-handover.ts).
    const waits = change.awaitsRelease;
    if (waits && indexed[at - 1]?.change.awaitsRelease?.address !== waits.address) {
      lines.push(`  then, once ${waits.from.join(', ')} let ${waits.address} go, or, if that is not heard, once nobody answers ARP for it (arping -D) (a second exec):`);
    }
    const outcome = outcomeOf(result, index, options.check);
    const mark = outcome === 'failed' ? '!' : outcome === 'not-run' ? ' ' : outcome === 'unknown' ? '?' : '~';
    const suffix = outcome === 'failed' ? '  (FAILED)' : outcome === 'not-run' ? '  (not run)' : outcome === 'unknown' ? '  (UNKNOWN: the host may or may not have made it)' : '';
    lines.push(`  ${mark} ${escapeControls(change.summary)}${suffix}    [${change.role ? `${change.role}: ` : ''}${change.task}]`);
    if (options.diff) lines.push(...renderDiff(change));
    if (options.verbose) lines.push(...change.commands.flatMap((command) => command.split('\n')).map((line) => `      $ ${line}`));
  });
  return lines;
}

const SELECTOR_NAMES: Record<string, string> = { '-t': 'TCP', '-u': 'UDP', '-f': 'FWM', '--sctp-service': 'SCTP' };

/** `192.0.2.13:80 in TCP 198.51.100.50:80`. */
export function describeServerRef(ref: RealServerRef): string {
  const [flag = '', ...rest] = ref.service;
  return `${ref.server} in ${[own(SELECTOR_NAMES, flag) ?? flag, ...rest].join(' ')}`;
}

function renderDrains(results: readonly HostResult[], waves: WavePlan, options: RenderOptions): string[] {
  if (waves.drains.length === 0) return [];
  const limit = options.drainTimeout ?? 0;
  const kinds = [
    'leaving real servers',
    ...(waves.drains.some((drain) => drain.kept !== undefined) ? ['those kept at weight 0 whose daemon restarts'] : []),
    ...(waves.drains.some((drain) => drain.switched !== undefined) ? ["the connections made by a switched server's old forwarding method"] : []),
    ...(waves.drains.some((drain) => drain.unmarked !== undefined) ? ['the connections through an address firewall marks leave'] : []),
  ];
  const which = kinds.length === 1 ? kinds[0] : `${kinds[0]}, and ${kinds.slice(1).join(', and ')},`;
  const lines = [
    limit <= 0
      ? `drain: not waited for (--drain-timeout 0): ${which} are cut where still open; directors count them first`
      : `drain, at most ${limit} s: directors wait until ${which} have no active connection`,
  ];
  for (const drain of waves.drains) {
    const outcomes = results.find((result) => result.host === drain.host)?.drains ?? [];
    for (const server of drain.servers) {
      const outcome = outcomes.find((entry) => describeServerRef(entry) === describeServerRef(server));
      const kept = drain.kept?.find((entry) => describeServerRef(entry.server) === describeServerRef(server));
      const switched = drain.switched?.find((entry) => describeServerRef(entry.server) === describeServerRef(server));
      const unmarked = drain.unmarked?.find((entry) => describeServerRef(entry) === describeServerRef(server));
      const through = unmarked?.vips?.join(', ') ?? '';
      const cut = kept ? `cut by the restart of its daemon on ${kept.restarts}` : switched ? `by ${switched.from} cut once its host drops that setup` : unmarked ? `through ${through} cut once a host drops it` : 'cut';
      const waited = limit <= 0 ? ': not waited for' : `: NOT drained after ${outcome?.seconds ?? 0} s`;
      const how = outcome === undefined ? '' : outcome.drained ? `: drained in ${outcome.seconds} s` : `${waited}, ${outcome.active} active connection(s) ${cut}`;
      const why = kept
        ? ` (kept at weight 0: ${kept.restarts} restarts its daemon in retire)`
        : switched
          ? ` (switched from ${switched.from} to ${switched.to}: its connections made by ${switched.from})`
          : unmarked
            ? ` (kept; its mark leaves ${through}: its connections through ${unmarked.vips?.length === 1 ? 'that address' : 'those addresses'})`
            : '';
      lines.push(`  ${drain.host}: ${describeServerRef(server)}${why}${how}`);
    }
  }
  return lines;
}

function renderHeldBack(results: readonly HostResult[]): string[] {
  const held = results.flatMap((result) => (result.heldBack ?? []).map((change) => `  ${result.host}: ${escapeControls(change.summary)} (${change.phase}): ${change.reason}`));
  return held.length > 0 ? ['held back (not run, because a host they depend on failed):', ...held] : [];
}

/**
 * What the read found that is no change. It comes from the read every host had before any wave
 * ran: after an apply it is that long ago (a health check may have passed since), which the header
 * says. Reading it again would cost every unchanged host a round trip of its own.
 */
function renderNotes(results: readonly HostResult[], check: boolean): string[] {
  const notes = results.flatMap((result) => (result.notes ?? []).map((note) => `  ${result.host}: ${escapeControls(note.text)}`));
  const when = check ? 'when the hosts were read' : 'when the hosts were read, before the apply (it may have changed since)';
  return notes.length > 0 ? [`noted ${when}; no change, what the hosts decided themselves:`, ...notes] : [];
}

export function renderPlan(results: readonly HostResult[], options: RenderOptions): string {
  const waves = options.waves;
  const blocks: string[][] = [];
  if (!waves || (waves.waves.length <= 1 && waves.drains.length === 0)) {
    blocks.push(...results.map((result) => renderHostPlan(result, options)));
  } else {
    // Between reroute and withdraw: the only thing that separates a quiesce from its deletion, or
    // from a restart in retire where no withdraw wave follows.
    const afterDrain = waves.waves.findIndex((wave) => phaseRank(wave.phase) > phaseRank('reroute'));
    waves.waves.forEach((wave, index) => {
      const hosts = wave.hosts.map((entry) => entry.host);
      if (index === afterDrain) blocks.push(renderDrains(results, waves, options));
      blocks.push([`== wave ${index + 1} of ${waves.waves.length}: ${wave.phase} (${hosts.join(', ')}) ==`]);
      blocks.push(...results.map((result) => renderHostPlan(result, options, wave.phase)));
    });
  }
  blocks.push(renderHeldBack(results));
  blocks.push(renderNotes(results, options.check));
  return blocks.filter((lines) => lines.length > 0).map((lines) => lines.join('\n')).join('\n\n');
}
