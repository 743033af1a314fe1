import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FetchOutcome } from '../../src/verify/client-output.js';
import { judgeService } from '../../src/verify/service-verdict.js';
import { verifyTargets } from '../../src/verify/targets.js';
import { service, type ShortService } from '../support/verify-services.js';

// The calculator that decides whether a service's answers match its scheduler, one JSON case per
// file under test/fixtures/verify/verdicts: the service in short form, the answers as counts per
// name (null: no page, with the fetcher's exit status), and the verdicts, shares and problems.

interface VerdictCase {
  service: ShortService;
  tolerance: number;
  requested: number;
  fetcher: string;
  answers: Array<[string | null, number, number?]>;
  stoppedAt?: number;
  pageNames?: Record<string, string>;
  expected: {
    status: string;
    check: string;
    verdicts: Record<string, string>;
    expectedPercent?: Record<string, number>;
    gotPercent?: Record<string, number>;
    notes?: string[];
    problems: string[];
  };
}

function outcomes(answers: VerdictCase['answers']): FetchOutcome[] {
  return answers.flatMap(([name, count, rc]) => Array.from({ length: count }, () => (name === null ? { rc: rc ?? 7 } : { rc: 0, name })));
}

const dir = join(import.meta.dirname, '../fixtures/verify/verdicts');
const files = readdirSync(dir).filter((file) => file.endsWith('.json'));

describe('service verdicts', () => {
  it.each(files.map((file) => [file.replace(/\.json$/, ''), JSON.parse(readFileSync(join(dir, file), 'utf8')) as VerdictCase] as const))('%s', (_, fixture) => {
    const target = verifyTargets([service(fixture.service)]).requests[0];
    if (!target) throw new Error('the fixture service is not requested');
    const report = judgeService({
      target,
      answers: { outcomes: outcomes(fixture.answers), fetcher: fixture.fetcher, ...(fixture.stoppedAt !== undefined ? { stoppedAt: fixture.stoppedAt } : {}) },
      requested: fixture.requested,
      tolerance: fixture.tolerance,
      pageNames: new Map(Object.entries(fixture.pageNames ?? {})),
    });
    const byName = (pick: (row: (typeof report.servers)[number]) => unknown): Record<string, unknown> =>
      Object.fromEntries(report.servers.map((row) => [row.name ?? row.address, pick(row)]));
    const round = (value: number | undefined): number | undefined => (value === undefined ? undefined : Math.round(value * 10) / 10);

    expect(report.status).toBe(fixture.expected.status);
    expect(report.check).toBe(fixture.expected.check);
    expect(byName((row) => row.verdict)).toEqual(fixture.expected.verdicts);
    if (fixture.expected.expectedPercent) expect(byName((row) => round(row.expectedPercent))).toEqual(fixture.expected.expectedPercent);
    if (fixture.expected.gotPercent) expect(byName((row) => round(row.gotPercent))).toEqual(fixture.expected.gotPercent);
    for (const note of fixture.expected.notes ?? []) expect(report.notes).toContain(note);
    expect(report.problems).toHaveLength(fixture.expected.problems.length);
    fixture.expected.problems.forEach((pattern, index) => expect(report.problems[index]).toMatch(new RegExp(pattern)));
  });
});

describe('what verify requests', () => {
  const wrr: VerdictCase['service'] = { scheduler: 'wrr', servers: [['rs1', 1], ['rs2', 2]] };

  it('skips UDP, address-less fwmark and all-weight-zero services with a reason, and tests port 0 on port 80', () => {
    const targets = verifyTargets([
      service(wrr, { name: 'dns', protocol: 'udp', port: 53 }),
      service(wrr, { name: 'marked-elsewhere', protocol: 'fwmark', fwmark: 7, address: undefined }),
      service({ scheduler: 'wrr', servers: [['rs1', 0]] }, { name: 'drained' }),
      service({ ...wrr, port: 0, persistence: { timeout: 300 } }, { name: 'all-ports' }),
    ]);
    expect(targets.skipped.map((entry) => [entry.service.name, entry.reason])).toEqual([
      ['dns', expect.stringMatching(/^UDP service: the test page is HTTP over TCP/)],
      ['marked-elsewhere', expect.stringMatching(/^firewall-mark service without a VIP:/)],
      ['drained', expect.stringMatching(/^every real server has weight 0/)],
    ]);
    expect(targets.requests.map((entry) => [entry.service.name, entry.url, entry.notes])).toEqual([
      ['all-ports', 'http://198.51.100.50:80/', ['port 0 accepts every port: requests go to port 80']],
    ]);
    expect(targets.pages.map((page) => page.url)).toEqual(['http://192.0.2.11:80/', 'http://192.0.2.12:80/']);
  });

  it('sends a fwmark service\'s requests to its VIP on port 80 when it marks it, else on its first port', () => {
    const marked = (ports: number[] | undefined, name: string) =>
      service({ ...wrr, port: 0 }, { name, protocol: 'fwmark', fwmark: 1, ...(ports ? { ports } : {}), persistence: { timeout: 300 } });
    const targets = verifyTargets([marked([80, 8080], 'web-ports'), marked([443, 8443], 'tls-ports'), marked(undefined, 'every-port')]);
    expect(targets.requests.map((entry) => [entry.service.name, entry.url, entry.notes])).toEqual([
      ['web-ports', 'http://198.51.100.50:80/', ['firewall mark 1: the director marks ports 80, 8080 of 198.51.100.50; requests go to port 80']],
      ['tls-ports', 'http://198.51.100.50:443/', ['firewall mark 1: the director marks ports 443, 8443 of 198.51.100.50; requests go to port 443']],
      ['every-port', 'http://198.51.100.50:80/', ['firewall mark 1: the director marks every port of 198.51.100.50; requests go to port 80']],
    ]);
    // Real servers of a fwmark service have port 0: their pages are fetched on the request port.
    expect(targets.pages.map((page) => page.url)).toEqual(['http://192.0.2.11:80/', 'http://192.0.2.12:80/', 'http://192.0.2.11:443/', 'http://192.0.2.12:443/']);
  });

  it('fetches each page once, from the client, or from the director for NAT real servers', () => {
    const targets = verifyTargets([
      service(wrr),
      service(wrr, { name: 'again', port: 80, address: '198.51.100.51' }),
      service({ scheduler: 'rr', servers: [['nat1', 1, '198.18.0.21']], port: 8080 }, { name: 'nat', forwarding: 'nat', address: '198.51.100.52', directors: ['lb2'] }),
    ]);
    expect(targets.pages.map((page) => [page.host, page.url, page.from])).toEqual([
      ['rs1', 'http://192.0.2.11:80/', { client: true }],
      ['rs2', 'http://192.0.2.12:80/', { client: true }],
      ['nat1', 'http://198.18.0.21:8080/', { director: 'lb2' }],
    ]);
  });
});
