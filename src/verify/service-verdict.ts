import type { ResolvedRealServer } from '../config/lvs-model.js';
import { describeFailure, type FetchOutcome } from './client-output.js';
import { expectationFor, formatPoints } from './expectations.js';
import type { ServerRow, ServiceCheck } from './report.js';
import type { RequestTarget } from './targets.js';

// Judges one service's answers: counts per real server, against what its scheduler promises.
// Shares are of the requests sent, so requests that got no answer show as a gap, and fail.

export interface ServiceAnswers {
  readonly outcomes: readonly FetchOutcome[];
  /** The request at which the time limit stopped the loop, if it did. */
  readonly stoppedAt?: number;
  readonly fetcher?: string;
}

export interface VerdictInput {
  readonly target: RequestTarget;
  readonly answers: ServiceAnswers;
  readonly requested: number;
  readonly tolerance: number;
  /** The name each real server's own page gave, by `address:port`: identifies address-only servers. */
  readonly pageNames: ReadonlyMap<string, string>;
  /** The per-request limit, named where a request timed out. */
  readonly timeoutSeconds?: number;
}

export function judgeService(input: VerdictInput): ServiceCheck {
  const { target, answers, tolerance } = input;
  const service = target.service;
  const expectation = expectationFor(service, tolerance);
  const notes = [expectation.note, ...target.notes];
  const problems: string[] = [];
  const outcomes = answers.outcomes;
  const sent = outcomes.length;

  const names = service.realServers.map((server) => serverName(server, target.port, input.pageNames));
  const counts = service.realServers.map(() => 0);
  const strangers = new Map<string, number>();
  const failures = new Map<string, number>();
  for (const outcome of outcomes) {
    const row = outcome.name === undefined ? -1 : names.indexOf(outcome.name);
    if (outcome.name === undefined) {
      const why = describeFailure(outcome, answers.fetcher, input.timeoutSeconds);
      failures.set(why, (failures.get(why) ?? 0) + 1);
    } else if (row < 0) strangers.set(outcome.name, (strangers.get(outcome.name) ?? 0) + 1);
    else counts[row] = (counts[row] ?? 0) + 1;
  }
  const unanswered = [...failures.values()].reduce((sum, count) => sum + count, 0);
  const answered = sent - unanswered;

  if (answers.fetcher === 'none') problems.push('the client has neither curl nor wget (nor busybox wget): no request was sent');
  else if (sent === 0) problems.push('no request was sent: the client script ended before its first request');
  if (answers.stoppedAt !== undefined) {
    notes.push(`the time limit stopped the requests after ${sent} of ${input.requested}`);
  } else if (sent > 0 && sent < input.requested) {
    problems.push(`the client's request loop ended after ${sent} of ${input.requested} requests`);
  }
  if (unanswered > 0) {
    const reasons = [...failures.entries()].map(([why, count]) => `${count} x ${why}`).join(', ');
    problems.push(`${unanswered} of ${sent} requests got no answer: ${reasons}`);
  }
  for (const [name, count] of strangers) {
    problems.push(`${name} answered ${count} of ${sent} requests but is not a real server of this service`);
  }

  // A host listed twice (two ports behind a NAT VIP) names itself on both: its page says the
  // host, not the port, so its rows share their answers and are judged as one server.
  const together = names.map((name, index) => (name === undefined ? [index] : names.flatMap((other, at) => (other === name ? [at] : []))));
  names.forEach((_, index) => {
    counts[index] = counts[together[index]?.[0] ?? index] ?? 0;
  });
  const sumOver = (index: number, values: readonly number[] | undefined): number | undefined =>
    values === undefined ? undefined : (together[index] ?? [index]).reduce((sum, at) => sum + (values[at] ?? 0), 0);
  const percent = (count: number): number => (sent === 0 ? 0 : (100 * count) / sent);
  const shares = splitAmongAnswering(expectation.kind === 'split' ? expectation.percents : undefined, service.realServers, counts);
  const joined = [...new Set(together.filter((rows) => rows.length > 1).map((rows) => names[rows[0] as number]))];
  if (joined.length > 0) notes.push(`${joined.join(', ')} listed more than once (several ports): its page names the host, not the port, so its rows' answers and shares are counted together`);
  if (shares) notes.push(`${shares.silent.map((index) => names[index] ?? `${service.realServers[index]?.address}:${service.realServers[index]?.port}`).join(', ')} never answered: the others' expected shares are among the servers that answered, which the scheduler splits the requests between`);
  const maxWeight = Math.max(...service.realServers.map((server) => server.weight));
  const answering = together.filter((rows, index) => rows[0] === index && (counts[index] ?? 0) > 0).length;
  const weights = service.realServers.map((entry) => entry.weight);
  const rows: ServerRow[] = service.realServers.map((listed, index) => {
    // A host listed more than once is judged on its rows' summed weight and share.
    const server = { ...listed, weight: sumOver(index, weights) ?? listed.weight };
    const answersHere = counts[index] ?? 0;
    const got = percent(answersHere);
    const expected = sumOver(index, shares?.percents) ?? sumOver(index, expectation.percents) ?? sumOver(index, expectation.referencePercents);
    const name = names[index];
    const label = name ?? `${server.address}:${server.port}`;
    const row = (verdict: ServerRow['verdict'], detail: string, problem?: string): ServerRow => {
      // A host's later rows repeat its first row's judgement: said once.
      if (problem && together[index]?.[0] === index) problems.push(problem);
      return {
        ...(name !== undefined ? { name } : {}),
        address: server.address,
        port: server.port,
        weight: server.weight,
        ...(expected !== undefined ? { expectedPercent: expected } : {}),
        answers: answersHere,
        gotPercent: got,
        verdict,
        detail,
      };
    };
    if (sent === 0) return row('info', 'no requests');
    if (server.weight === 0) {
      return answersHere > 0
        ? row('unexpected', `weight 0 but answered ${answersHere}`, `${label} has weight 0 but answered ${answersHere} of ${sent} requests`)
        : row('ok', 'weight 0: no answers, as it should');
    }
    switch (expectation.kind) {
      case 'split': {
        if (answersHere === 0) return row('silent', 'never answered', `${label} never answered (expected ${formatPercent(sumOver(index, expectation.percents) ?? 0)} of the requests)`);
        const off = Math.abs(got - (expected ?? 0));
        // Shares are fractions of whole requests: compare with a hair of slack so 10.000000000000007 is 10.
        if (off > tolerance + 1e-9) {
          return row(
            'off',
            `off by ${formatPoints(off)}`,
            `${label} got ${formatPercent(got)} of the requests, expected ${formatPercent(expected ?? 0)}: off by ${formatPoints(off)}, more than the tolerance of ${formatPoints(tolerance)}`,
          );
        }
        return row('ok', `within ${formatPoints(tolerance)}`);
      }
      case 'every':
        return answersHere === 0 ? row('silent', 'never answered', `${label} never answered`) : row('ok', 'answers');
      case 'one':
        if (answersHere === 0) return row('info', 'not chosen');
        return answering > 1
          ? row('off', 'shares the client', `${label} answered ${answersHere} of ${sent}: the answers came from ${answering} servers, expected one`)
          : row('ok', 'every answer');
      case 'highest':
        if (server.weight < maxWeight) {
          return answersHere > 0
            ? row('unexpected', 'answered below the highest weight', `${label} (weight ${server.weight}) answered ${answersHere} of ${sent}, but fo sends everything to weight ${maxWeight}`)
            : row('ok', 'not chosen: lower weight');
        }
        return row(answersHere > 0 ? 'ok' : 'info', answersHere > 0 ? 'highest weight' : 'not chosen');
      case 'any':
        return row(answersHere > 0 ? 'ok' : 'info', answersHere > 0 ? 'answers' : 'not chosen');
    }
  });

  return {
    name: service.name,
    protocol: service.protocol,
    ...(service.address !== undefined ? { vip: service.address } : {}),
    port: target.port,
    scheduler: service.scheduler,
    forwarding: service.forwarding,
    persistent: service.persistence !== undefined,
    status: problems.length > 0 ? 'fail' : 'pass',
    check: expectation.kind,
    notes,
    sent,
    answered,
    unanswered,
    strangers: Object.fromEntries(strangers),
    servers: rows,
    problems,
  };
}

/**
 * Where a split's weighted servers never answered (down by a health check, so out of the table)
 * while others did: the scheduler splits the requests among the servers it still has, so the
 * others' expected shares are theirs among those, and the silent server is the one problem, not
 * every server's share. Undefined when every weighted server answered, or none did.
 */
function splitAmongAnswering(
  percents: readonly number[] | undefined,
  servers: readonly ResolvedRealServer[],
  counts: readonly number[],
): { readonly percents: readonly number[]; readonly silent: readonly number[] } | undefined {
  if (!percents) return undefined;
  const silent = servers.flatMap((server, index) => (server.weight > 0 && (counts[index] ?? 0) === 0 ? [index] : []));
  const remaining = percents.reduce((sum, share, index) => (silent.includes(index) ? sum : sum + share), 0);
  if (silent.length === 0 || remaining <= 0) return undefined;
  return { percents: percents.map((share, index) => (silent.includes(index) ? share : (100 * share) / remaining)), silent };
}

function serverName(server: ResolvedRealServer, servicePort: number, pageNames: ReadonlyMap<string, string>): string | undefined {
  return server.host ?? pageNames.get(`${server.address}:${server.port === 0 ? servicePort : server.port}`);
}

export function formatPercent(value: number): string {
  return `${value.toFixed(1)}%`;
}
