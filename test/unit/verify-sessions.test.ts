import { describe, expect, it } from 'vitest';
import { renderSession } from '../../src/report/verify-text.js';
import { parseClientOutput, type SessionAnswer } from '../../src/verify/client-output.js';
import { judgeSession } from '../../src/verify/session-verdict.js';
import { service } from '../support/verify-services.js';

// verify with lvs.sessions: one user's requests to a service's session page through its VIP.

const url = 'http://198.51.100.50:80/cgi-bin/session.php';
const rr = service({ scheduler: 'rr', servers: [['rs1', 1], ['rs2', 1]] });
const answer = (server: string, count: number, session = 'abc123'): SessionAnswer => ({ rc: 0, server, count, session });

describe('session verdict', () => {
  const cases: Array<[string, Parameters<typeof judgeSession>[0], { status: string; problems: string[]; notes: string[] }]> = [
    [
      'one session across both servers',
      { service: rr, url, sent: 4, answers: [answer('rs1', 1), answer('rs2', 2), answer('rs1', 3), answer('rs2', 4)] },
      { status: 'pass', problems: [], notes: ['one session across 2 servers'] },
    ],
    [
      'a count that starts again is a lost session, said once at the request it happened',
      { service: rr, url, sent: 4, answers: [answer('rs1', 1), answer('rs2', 1), answer('rs1', 2), answer('rs2', 2)] },
      { status: 'fail', problems: ['the session was lost at request 2: rs2 counted 1, not 2'], notes: ['one session across 2 servers'] },
    ],
    [
      'another session id: the cookie was not taken',
      { service: rr, url, sent: 2, answers: [answer('rs1', 1), answer('rs2', 1, 'zzz')] },
      { status: 'fail', problems: ['request 2: rs2 answered in another session (zzz, not abc123): the cookie was not taken'], notes: ['one session across 2 servers'] },
    ],
    [
      'a failed fetch, in the fetcher\'s words',
      { service: rr, url, sent: 2, answers: [answer('rs1', 1), { rc: 22 }], fetcher: 'curl' },
      {
        status: 'fail',
        problems: ['request 2 got no session page: curl exit 22 (HTTP error status)'],
        notes: ['every request reached rs1: the session was not carried from one server to another in this run'],
      },
    ],
    [
      'a timed-out request names the limit and the option that sets it (a slow PHP page is not a dead one)',
      { service: rr, url, sent: 2, answers: [{ rc: 28 }, answer('rs2', 1)], fetcher: 'curl', timeoutSeconds: 3 },
      {
        status: 'fail',
        problems: ["request 1 got no session page: curl exit 28 (timed out after 3 s, verify's --timeout)"],
        notes: ['every request reached rs2: the session was not carried from one server to another in this run'],
      },
    ],
    [
      'a page that is not the session page',
      { service: rr, url, sent: 1, answers: [{ rc: 0 }] },
      { status: 'fail', problems: ['request 1 got no session page: the answer was not server=NAME requests=N session=ID'], notes: [] },
    ],
    [
      'requests that never ran',
      { service: rr, url, sent: 3, answers: [answer('rs1', 1)] },
      { status: 'fail', problems: ['2 of 3 requests did not run'], notes: ['every request reached rs1: the session was not carried from one server to another in this run'] },
    ],
    [
      'a persistent service keeps the user on one server: nothing to say of that',
      { service: service({ scheduler: 'rr', servers: [['rs1', 1], ['rs2', 1]], persistence: { timeout: 300 } }), url, sent: 2, answers: [answer('rs2', 1), answer('rs2', 2)] },
      { status: 'pass', problems: [], notes: [] },
    ],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    const check = judgeSession(input);
    expect({ status: check.status, problems: check.problems, notes: check.notes }).toEqual(expected);
    expect(check.counts).toEqual(input.answers.map((a) => a.count ?? 0));
  });

  it('is read from the client\'s lines, a field it cannot trust left out, and drawn for people', () => {
    const output = parseClientOutput('ab12', ['ab12 s 0 1 0 rs1 1 abc123', 'ab12 s 0 2 0 rs2 2 abc123', 'ab12 s 0 3 7 - - -', 'zz s 0 4 0 rs1 9 x', 'ab12 s 0 4 0 rs1;x 3 abc123', 'ab12 end'].join('\n'));
    const answers = output.sessions.get(0) ?? [];
    expect(answers).toEqual([answer('rs1', 1), answer('rs2', 2), { rc: 7 }, { rc: 0, count: 3, session: 'abc123' }]);
    const check = judgeSession({ service: rr, url, sent: 4, answers, fetcher: 'curl' });
    expect(renderSession(check)).toEqual([
      `session web  ${url}  FAIL`,
      '  4 requests of one user; counts 1 2 0 3; answered by rs1 1, rs2 1',
      '  one session across 2 servers',
      '  ! request 3 got no session page: curl exit 7 (connection refused or no route)',
    ]);
  });
});
