import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { exitCodeForVerify } from '../../src/cli/exit-codes.js';
import { renderVerify, shareBar } from '../../src/report/verify-text.js';
import { clientScript, nameFromPage, sessionFromPage } from '../../src/verify/client-script.js';
import type { VerifyReport } from '../../src/verify/report.js';
import { judgeService } from '../../src/verify/service-verdict.js';
import { verifyTargets } from '../../src/verify/targets.js';
import { service } from '../support/verify-services.js';

// How the report reads, and which exit code it maps to.

const target = verifyTargets([service({ scheduler: 'wrr', servers: [['rs1', 1], ['rs2', 2]] })]).requests[0];
if (!target) throw new Error('no target');
const judged = judgeService({
  target,
  answers: { outcomes: Array.from({ length: 30 }, () => ({ rc: 0, name: 'rs1' })), fetcher: 'curl' },
  requested: 30,
  tolerance: 10,
  pageNames: new Map(),
});
const report: VerifyReport = {
  cluster: 'demo',
  client: 'client',
  requests: 30,
  tolerance: 10,
  services: [judged],
  sessions: [],
  arp: [
    {
      vip: '198.51.100.50',
      status: 'pass',
      checker: 'router',
      device: 'eth1',
      lan: '192.0.2.0/24',
      tool: 'iputils',
      directors: [{ host: 'director', device: 'eth0', mac: '16:00:d0:76:7c:b1', holdsVip: true }],
      responders: [{ mac: '16:00:d0:76:7c:b1', host: 'director', replies: 3 }],
      notes: ['3 broadcast ARP requests for 198.51.100.50 from router on eth1 (iputils arping), on the director\'s LAN 192.0.2.0/24'],
      problems: [],
    },
  ],
  pages: [
    { host: 'rs1', address: '192.0.2.11', port: 80, url: 'http://192.0.2.11:80/', status: 'pass', got: 'rs1' },
    { host: 'rs2', address: '192.0.2.12', port: 80, url: 'http://192.0.2.12:80/', status: 'pass', got: 'rs2' },
  ],
  hosts: [],
  failures: judged.problems.map((problem) => `service web: ${problem}`),
  unreachable: [],
  seconds: 4.2,
};

describe('verify report text', () => {
  it('draws a bar per server with the expected share marked', () => {
    expect(shareBar(100, 33.3, 10)).toBe('[##|#######]');
    expect(shareBar(0, 66.7, 10)).toBe('[......|...]');
    expect(shareBar(50, undefined, 10)).toBe('[#####.....]');
    expect(shareBar(0, 0, 10)).toBe('[|.........]');
  });

  it('shows a table per service, then ARP, pages and the verdict with every problem', () => {
    expect(renderVerify(report).split('\n')).toEqual([
      'verify demo: 30 requests per service from client, tolerance 10 percentage points',
      '',
      'service web  tcp 198.51.100.50:80  wrr  dr  FAIL',
      '  wrr: the expected share is weight / sum of weights; each server must be within 10 percentage points of it',
      "  rs2 never answered: the others' expected shares are among the servers that answered, which the scheduler splits the requests between",
      '  server  address:port   weight  expected     got  answers  share (| = expected)              verdict',
      '  rs1     192.0.2.11:80       1    100.0%  100.0%       30  [#############################|]  within 10 percentage points',
      '  rs2     192.0.2.12:80       2     66.7%    0.0%        0  [...................|..........]  ! never answered',
      '  30 sent, 30 answered',
      '  ! rs2 never answered (expected 66.7% of the requests)',
      '',
      'ARP 198.51.100.50  PASS  answered by: director 16:00:d0:76:7c:b1 (3)',
      '  director: director eth0 16:00:d0:76:7c:b1',
      "  3 broadcast ARP requests for 198.51.100.50 from router on eth1 (iputils arping), on the director's LAN 192.0.2.0/24",
      '',
      'pages fetched directly',
      '  rs1  http://192.0.2.11:80/  PASS  names rs1',
      '  rs2  http://192.0.2.12:80/  PASS  names rs2',
      '',
      'RESULT: FAIL (1 problem)  4.2s',
      '  - service web: rs2 never answered (expected 66.7% of the requests)',
    ]);
  });

  it('shows what a page said with its control characters escaped', () => {
    const page = { host: 'rs3', address: '192.0.2.13', port: 80, url: 'http://192.0.2.13:80/', status: 'fail' as const, problem: 'names \u001b[31mrs9\rrs1' };
    const text = renderVerify({ ...report, pages: [page], failures: ['page http://192.0.2.13:80/ names \u001b[31mrs9'] });
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(text).toContain('names \\e[31mrs9\\rrs1');
  });

  it('exits 5 on a failed check, 3 when only a host was unreachable, 0 otherwise', () => {
    expect(exitCodeForVerify(report)).toBe(5);
    expect(exitCodeForVerify({ ...report, failures: [], unreachable: ['client: refused'] })).toBe(3);
    expect(exitCodeForVerify({ ...report, failures: ['x'], unreachable: ['client: refused'] })).toBe(5);
    expect(exitCodeForVerify({ ...report, failures: [], unreachable: [] })).toBe(0);
  });
});

describe('client script', () => {
  const base = { nonce: 'ab12', requests: 5, timeoutSeconds: 2, timeLimitSeconds: 30, services: [{ index: 0, url: 'http://198.51.100.50:80/' }], pages: ['http://192.0.2.11:80/'] };

  it('takes only URLs it builds itself and bounded whole numbers', () => {
    expect(() => clientScript({ ...base, pages: ["http://192.0.2.11:80/'; reboot; '"] })).toThrow(/not a URL verify builds/);
    expect(() => clientScript({ ...base, services: [{ index: 0, url: 'http://example.com/' }] })).toThrow(/not a URL verify builds/);
    expect(() => clientScript({ ...base, requests: 0 })).toThrow(/requests must be a whole number/);
    expect(() => clientScript({ ...base, timeoutSeconds: 1.5 })).toThrow(/timeout must be a whole number/);
    expect(() => clientScript({ ...base, nonce: 'x y' })).toThrow(/nonce/);
  });

  it('bounds the loop by count and by time', () => {
    const script = clientScript(base);
    expect(script).toContain('while [ "$i" -le 5 ]; do');
    expect(script).toContain('stop=$(( $(date +%s) + 30 ))');
    expect(script).toContain('curl) curl -sf -o - --max-time 2 "$1" ;;');
    expect(script).toContain('*) timeout 2 busybox wget -q -O - "$1" ;;');
  });

  // The extraction runs in whatever sh the client has: dash (Debian's sh), busybox ash, bash.
  const shells = [['sh'], ['busybox', 'sh'], ['bash', '--posix']].filter(([shell]) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0);
  const cases: Array<[string, string]> = [
    ['<!doctype html>\n<html>\n<body>\n<h1>rs1</h1>\n<p>served by rs1 (192.0.2.11)</p>\n</body>\n</html>\n', 'rs1'],
    ['<h1>web-2.example_x</h1>', 'web-2.example_x'],
    ['', '-'],
    ['<html>no heading</html>', '-'],
    ['<h1></h1>', '-'],
    ['<h1>rs1; reboot</h1>', '-'],
    ['<h1>$(id)</h1>', '-'],
    ['<h1>rs1</h2> and later </h1>', '-'],
    ['<h1>a*</h1>', '-'],
  ];
  const sessionCases: Array<[string, string]> = [
    ['server=rs2 requests=3 session=4kq0lv8ie1bq3fnq5v1o3p2b9t\n', 'rs2 3 4kq0lv8ie1bq3fnq5v1o3p2b9t'],
    ['server=web-1.example requests=12 session=a,b-c\n', 'web-1.example 12 a,b-c'],
    ['', '- - -'],
    ['<h1>rs1</h1>', '- - -'],
    ['server=rs1;id requests=1 session=x\n', '- 1 x'],
    ['server=rs1 requests=$(id) session=x\n', 'rs1 - x'],
    ['server=rs1 requests=2 session=$(id)\n', 'rs1 2 -'],
    ['server=rs1 requests=2 session=abc;reboot\n', 'rs1 2 abc'],
  ];
  it.each(shells)('reads server, count and session id from the session page in %s', (...argv) => {
    for (const [page, fields] of sessionCases) {
      const run = spawnSync(argv[0] as string, [...argv.slice(1), '-c', `export LC_ALL=C; page=$1\n${sessionFromPage}\nprintf '%s %s %s' "$server" "$count" "$sid"`, 'sh', page], { encoding: 'utf8' });
      expect([page, run.stdout, run.stderr]).toEqual([page, fields, '']);
    }
  });

  it('asks the session page only at the URLs it builds, with the session id of the first answer as the cookie', () => {
    const script = clientScript({ ...base, sessions: [{ index: 0, url: 'http://198.51.100.50:80/cgi-bin/session.php' }], sessionRequests: 4 });
    expect(script).toContain('while [ "$i" -le 4 ]; do');
    expect(script).toContain('curl) curl -sf -o - --max-time 2 -H "Cookie: PHPSESSID=$2" "$1" ;;');
    expect(script).toContain('page=$(getsession http://198.51.100.50:80/cgi-bin/session.php "$cookie" 2>/dev/null); rc=$?');
    expect(() => clientScript({ ...base, sessions: [{ index: 0, url: 'http://198.51.100.50:80/' }] })).toThrow(/not a URL verify builds/);
    expect(() => clientScript({ ...base, sessions: [{ index: 0, url: "http://198.51.100.50:80/cgi-bin/session.php'; id; '" }] })).toThrow(/not a URL verify builds/);
    expect(() => clientScript({ ...base, services: [{ index: 0, url: 'http://198.51.100.50:80/cgi-bin/session.php' }] })).toThrow(/not a URL verify builds/);
  });

  it.each(shells)('reads the server name from a page in %s', (...argv) => {
    for (const [page, name] of cases) {
      const run = spawnSync(argv[0] as string, [...argv.slice(1), '-c', `export LC_ALL=C; page=$1\n${nameFromPage}\nprintf '%s' "$name"`, 'sh', page], { encoding: 'utf8' });
      expect([page, run.stdout, run.stderr]).toEqual([page, name, '']);
    }
  });
});

