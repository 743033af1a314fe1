import { describe, expect, it } from 'vitest';
import { explainAbsent } from '../../src/status/absent-why.js';
import { downNote } from '../../src/resources/keepalived.js';
import type { ServerStatus } from '../../src/status/model.js';
import type { HostStatus, StatusReport } from '../../src/status/report.js';

// Why a declared real server is out of a director's table, from the rest of one refresh.

const stats = { connections: 1, channels: 1, execs: 1 };
const absent = (host: string, endpoint: string): ServerStatus => ({ endpoint, host, state: 'absent', why: 'declared, but not in the live table', declaredWeight: 1 });

function report(director: Partial<HostStatus>, others: HostStatus[]): StatusReport {
  return {
    at: '2026-11-30T00:00:00.000Z',
    hosts: [
      {
        host: 'director',
        address: '192.0.2.10',
        reachable: true,
        stats,
        director: {
          table: 'ok',
          vips: [],
          services: [
            {
              key: 'TCP 198.51.100.50:80',
              name: 'web',
              state: 'live',
              servers: [absent('rs1', '192.0.2.11:80'), absent('rs2', '192.0.2.12:80'), { endpoint: '192.0.2.13:80', host: 'rs3', state: 'active', weight: 1 }],
            },
          ],
        },
        ...director,
      },
      ...others,
    ],
  };
}

const whys = (result: StatusReport): Array<string | undefined> => result.hosts[0]?.director?.services[0]?.servers.map((server) => server.why) ?? [];

describe('explainAbsent', () => {
  it("names the director's pending addition and the serving host's state", () => {
    const joining = { service: ['-t', '198.51.100.50:80'], server: '192.0.2.11:80', address: '192.0.2.11' };
    const result = explainAbsent(
      report({ drift: { state: 'drift', changes: [{ summary: 'add real server 192.0.2.11:80 ...', task: 'ipvs', joining }] } }, [
        { host: 'rs1', address: '192.0.2.11', reachable: true, stats, drift: { state: 'drift', changes: [{ summary: 'a', task: 't' }, { summary: 'b', task: 't' }] } },
        { host: 'rs2', address: '192.0.2.12', reachable: false, error: 'refused', stats },
      ]),
    );
    expect(whys(result)).toEqual([
      'declared, but not in the live table; apply adds it (a pending change of this director); its host rs1 has 2 pending changes, which apply makes before adding it',
      'declared, but not in the live table; its host rs2 is unreachable',
      undefined,
    ]);
  });

  it("says keepalived took out a server whose health check fails, not that apply will add it", () => {
    // apply's read notes it; keepalived, not apply, puts it back once the check passes.
    const notes = [downNote('TCP 198.51.100.50:80 192.0.2.11:80')];
    const result = explainAbsent(
      report({ drift: { state: 'in-sync', changes: [], notes } }, [
        { host: 'rs1', address: '192.0.2.11', reachable: true, stats, drift: { state: 'drift', changes: [{ summary: 'start lvsprov-web', task: 't' }] } },
        { host: 'rs2', address: '192.0.2.12', reachable: true, stats, drift: { state: 'drift', changes: [{ summary: 'a', task: 't' }] } },
      ]),
    );
    expect(whys(result)).toEqual([
      'declared, but not in the live table; its health check fails (keepalived took it out, and puts it back once the check passes); its host rs1 has 1 pending change, which apply makes',
      'declared, but not in the live table; its host rs2 has 1 pending change, which apply makes before adding it',
      undefined,
    ]);
  });

  it("goes by the note's structured reason, never by its wording", () => {
    const rs1 = { host: 'rs1', address: '192.0.2.11', reachable: true, stats, drift: { state: 'in-sync' as const, changes: [] } };
    // Another wording of the same reason counts; the same words without the reason do not.
    const reworded = [{ text: 'rs1 taken out by keepalived', reason: { kind: 'health-check-down' as const, service: 'TCP 198.51.100.50:80', server: '192.0.2.11:80' } }];
    expect(whys(explainAbsent(report({ drift: { state: 'in-sync', changes: [], notes: reworded } }, [rs1])))[0]).toContain('its health check fails');
    const wordsOnly = [{ text: '192.0.2.11:80 in TCP 198.51.100.50:80: down (health check)' }];
    expect(whys(explainAbsent(report({ drift: { state: 'in-sync', changes: [], notes: wordsOnly } }, [rs1])))[0]).not.toContain('its health check fails');
    // The reason names one server of one service: another server of it is not taken for it.
    const other = [{ text: 'x', reason: { kind: 'health-check-down' as const, service: 'TCP 198.51.100.50:80', server: '192.0.2.12:80' } }];
    expect(whys(explainAbsent(report({ drift: { state: 'in-sync', changes: [], notes: other } }, [rs1])))[0]).not.toContain('its health check fails');
  });

  it('leaves the reason alone when nothing else is known, and when the table could not be read', () => {
    const plain = report({}, [{ host: 'rs1', address: '192.0.2.11', reachable: true, stats, drift: { state: 'in-sync', changes: [] } }]);
    expect(whys(explainAbsent(plain))).toEqual(whys(plain));
    const unreadable = report({}, [{ host: 'rs2', address: '192.0.2.12', reachable: false, stats }]);
    const director = unreadable.hosts[0]?.director;
    const withoutTable: StatusReport = { ...unreadable, hosts: [{ ...(unreadable.hosts[0] as HostStatus), director: { ...(director as NonNullable<typeof director>), table: 'unreadable' } }, ...unreadable.hosts.slice(1)] };
    expect(whys(explainAbsent(withoutTable))).toEqual(whys(withoutTable));
  });
});
