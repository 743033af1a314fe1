import type { ResolvedService } from '../config/lvs-model.js';
import { describeFailure, type SessionAnswer } from './client-output.js';
import type { SessionCheck } from './report.js';

// Judges one user's requests to a service's session page (lvs.sessions): every answer must carry
// the one session, its count going 1, 2, 3 ... whichever real server gave it. A count that starts
// again is a session lost: the store did not keep it, or a server keeps sessions elsewhere.

export interface SessionVerdictInput {
  readonly service: ResolvedService;
  readonly url: string;
  readonly sent: number;
  readonly answers: readonly SessionAnswer[];
  readonly fetcher?: string;
  /** The per-request limit, named where a request timed out. */
  readonly timeoutSeconds?: number;
}

export function judgeSession({ service, url, sent, answers, fetcher, timeoutSeconds }: SessionVerdictInput): SessionCheck {
  const problems: string[] = [];
  const notes: string[] = [];
  const servers: Record<string, number> = {};
  const counts = answers.map((answer) => answer.count ?? 0);
  let first: string | undefined;
  answers.forEach((answer, index) => {
    const request = index + 1;
    if (answer.server !== undefined) servers[answer.server] = (servers[answer.server] ?? 0) + 1;
    if (answer.rc !== 0 || answer.count === undefined || answer.session === undefined) {
      problems.push(`request ${request} got no session page: ${answer.rc !== 0 ? describeFailure({ rc: answer.rc }, fetcher, timeoutSeconds) : 'the answer was not server=NAME requests=N session=ID'}`);
      return;
    }
    first ??= answer.session;
    const by = answer.server ?? 'a server';
    if (answer.session !== first) problems.push(`request ${request}: ${by} answered in another session (${answer.session}, not ${first}): the cookie was not taken`);
    else if (answer.count !== request && problems.length === 0) {
      problems.push(`the session was lost at request ${request}: ${by} counted ${answer.count}, not ${request}`);
    }
  });
  if (answers.length < sent) problems.push(`${sent - answers.length} of ${sent} requests did not run`);
  const spreads = service.persistence === undefined && service.realServers.filter((server) => server.weight > 0).length > 1;
  const answered = Object.keys(servers).length;
  if (spreads && answered === 1) notes.push(`every request reached ${Object.keys(servers)[0]}: the session was not carried from one server to another in this run`);
  else if (answered > 1) notes.push(`one session across ${answered} servers`);
  return { service: service.name, url, status: problems.length > 0 ? 'fail' : 'pass', sent, counts, servers, notes, problems };
}
