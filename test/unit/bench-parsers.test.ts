import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecap } from '../../bench/src/ansible-recap.js';
import { countSessions, sessionsClosedBeforeDisconnect } from '../../bench/src/sshd-log.js';
import { withSettings } from '../../bench/src/sshd-logs.js';
import { childCpuTicks, ownCpuTicks } from '../../bench/src/proc-cpu.js';
import { cli, cliNodeFlags, lvsprovArgv } from '../../bench/src/lvsprov-contender.js';
import { busyShare, parseCpuLine } from '../../bench/src/machine-cpu.js';
import { summarize } from '../../bench/src/stats.js';
import type { BenchResult, ContenderResult } from '../../bench/src/suite.js';
import { floorBound, ratios, renderTable } from '../../bench/src/table.js';

const fixtures = join(import.meta.dirname, '../fixtures/bench');

describe('countSessions', () => {
  // A real VERBOSE log from a lab host: the floor's login, an lvsprov first apply (read + apply),
  // an lvsprov re-run (read only), then part of an Ansible run over one ControlPersist connection.
  const log = readFileSync(join(fixtures, 'sshd-verbose.log'), 'utf8');

  it('counts connections, logins and sessions, subsystems apart from execs', () => {
    expect(countSessions(log)).toEqual({ connections: 4, logins: 4, sessions: 15, execs: 14 });
  });

  it('counts each connection of the log on its own', () => {
    const lines = log.split('\n');
    const slice = (from: number, to: number): string => lines.slice(from - 1, to).join('\n');
    expect(countSessions(slice(2, 9))).toEqual({ connections: 1, logins: 1, sessions: 1, execs: 1 });
    expect(countSessions(slice(10, 19))).toEqual({ connections: 1, logins: 1, sessions: 2, execs: 2 });
    expect(countSessions(slice(20, 27))).toEqual({ connections: 1, logins: 1, sessions: 1, execs: 1 });
  });

  it('counts the sessions sshd closed before their connection went, not those a disconnect cut', () => {
    const connection = (port: number, closed: boolean): string =>
      [
        `Connection from 198.18.0.1 port ${port} on 198.18.0.10 port 22 rdomain ""`,
        `Starting session: command for root from 198.18.0.1 port ${port} id 0`,
        ...(closed ? [`Close session: user root from 198.18.0.1 port ${port} id 0`] : []),
        `Received disconnect from 198.18.0.1 port ${port}:11: `,
        `Disconnected from user root 198.18.0.1 port ${port}`,
        // sshd's cleanup after a disconnect may log the close too: too late to have reaped anything.
        ...(closed ? [] : [`Close session: user root from 198.18.0.1 port ${port} id 0`]),
      ].join('\n');
    expect(sessionsClosedBeforeDisconnect(connection(44300, false))).toBe(0);
    expect(sessionsClosedBeforeDisconnect(connection(44336, true))).toBe(1);
    expect(sessionsClosedBeforeDisconnect(`${connection(1, true)}\n${connection(2, false)}\n${connection(3, true)}`)).toBe(2);
  });

  it('ignores the key-lookup lines that precede a login', () => {
    expect(countSessions('Accepted key ED25519 SHA256:x found at /etc/lvsprov-lab/authorized_keys:1\nPostponed publickey for root from 198.18.0.1 port 1 ssh2 [preauth]\n')).toEqual({
      connections: 0,
      logins: 0,
      sessions: 0,
      execs: 0,
    });
  });
});

describe('withSettings', () => {
  it('replaces a keyword wherever it is, whatever its case, and appends a missing one', () => {
    const config = 'Port 22\nLogLevel ERROR\nloglevel INFO\nUsePAM no';
    expect(withSettings(config, { LogLevel: 'VERBOSE', LoginGraceTime: '300' })).toBe('Port 22\nLogLevel VERBOSE\nLogLevel VERBOSE\nUsePAM no\nLoginGraceTime 300\n');
  });

  it('leaves a value that is already right as it is', () => {
    expect(withSettings('LogLevel VERBOSE\n', { LogLevel: 'VERBOSE' })).toBe('LogLevel VERBOSE\n');
  });
});

describe('parseRecap', () => {
  it('reads the last PLAY RECAP', () => {
    const output = readFileSync(join(fixtures, 'ansible-rerun.txt'), 'utf8');
    const recap = parseRecap(output);
    expect(recap).toHaveLength(3);
    expect(recap[0]).toEqual({ host: 'h1', ok: 6, changed: 0, unreachable: 0, failed: 0 });
    expect(recap.every((line) => line.changed === 0 && line.failed === 0)).toBe(true);
  });

  it('finds nothing in output without a recap', () => {
    expect(parseRecap('ERROR! the playbook could not be found\n')).toEqual([]);
  });
});

describe('summarize', () => {
  it('takes the median of odd and even sample counts, and the range', () => {
    expect(summarize([3, 1, 2])).toMatchObject({ median: 2, min: 1, max: 3 });
    expect(summarize([4, 1, 3, 2])).toMatchObject({ median: 2.5, min: 1, max: 4 });
  });

  it('refuses an empty sample', () => {
    expect(() => summarize([])).toThrow(/no samples/);
  });
});

describe('renderTable', () => {
  const contender = (id: ContenderResult['id'], label: string, samples: number[]): ContenderResult => ({
    id,
    label,
    seconds: summarize(samples),
    runs: samples.map((seconds, index) => ({
      seconds,
      maxRssKiB: 90 * 1024,
      cpuSeconds: seconds / 2,
      machineBusy: 0.5 + index * 0.1,
      hostCpuSeconds: seconds / 4,
      ...(id.startsWith('lvsprov') ? { firstConnectionMs: 100 + index * 10, handshakes: { limit: 8, peak: 8 - index } } : {}),
      server: { connections: { min: 1, max: 1 }, sessions: { min: 1, max: 2 }, execs: { min: 1, max: 2 } },
    })),
  });
  const result: BenchResult = {
    hosts: 50,
    reps: 3,
    ansibleReps: 2,
    machine: { cpus: 2, node: 'v20', loadBefore: [1, 1, 1], loadAfter: [1, 1, 1] },
    labUpSeconds: 2,
    hostBashrc: false,
    ansible: 'ansible-playbook [core 2.14.18]',
    contenders: [
      contender('floor', 'floor', [4, 5, 6]),
      contender('floor-curve25519', 'floor, curve25519 kex', [4, 5, 6]),
      contender('lvsprov-first', 'lvsprov first apply', [9, 11, 10]),
      contender('lvsprov-rerun', 'lvsprov re-run', [7, 8, 9]),
      contender('ansible-first', 'ansible first run', [100, 110]),
      contender('ansible-rerun', 'ansible re-run', [60, 70]),
    ],
  };

  it('divides medians: by the floor, and Ansible by lvsprov', () => {
    expect(ratios(result)).toEqual({ first: 2, rerun: 1.6, ansibleFirst: 10.5, ansibleRerun: 65 / 8 });
  });

  it('says which targets were met and which were missed', () => {
    const text = renderTable(result);
    // Against the curve25519 floor (median 5 here), with the 50-host bounds.
    expect(text).toContain('re-run <= 1.30x the curve25519 floor: 1.60x MISSED');
    expect(text).toContain('first apply <= 1.80x the curve25519 floor: 2.00x MISSED');
    expect(text).toContain('lvsprov peak RSS <= 300 MiB: 90.00 MiB met');
    expect(text).toContain('ansible first run / lvsprov first apply >= 10: 10.50x met');
    expect(text).toContain('ansible re-run / lvsprov re-run >= 10: 8.13x MISSED');
    expect(text).toMatch(/lvsprov re-run\s+8\.00 s\s+7\.00-9\.00\s+1\.60x/);
  });

  it('moves the floor bounds with log(hosts) from 50 to 1000 hosts, and holds them outside', () => {
    expect(floorBound(50, 1.3, 1.15)).toBeCloseTo(1.3);
    expect(floorBound(1000, 1.3, 1.15)).toBeCloseTo(1.15);
    expect(floorBound(10, 1.3, 1.15)).toBeCloseTo(1.3);
    expect(floorBound(5000, 1.8, 1.4)).toBeCloseTo(1.4);
    // 200 hosts: log(4)/log(20) of the way.
    expect(floorBound(200, 1.8, 1.4)).toBeCloseTo(1.8 - 0.4 * (Math.log(4) / Math.log(20)));
  });

  it('reports the held re-check against the curve25519 floor and the CPU of a watch', () => {
    const watch: ContenderResult = {
      ...contender('lvsprov-watch', 'lvsprov status re-check, held', [1, 2]),
      runs: [1, 2].map((seconds, index) => ({
        seconds,
        server: { connections: { min: 0, max: 0 }, sessions: { min: 1, max: 1 }, execs: { min: 1, max: 1 } },
        watch: { interval: 10, cpuMsPerRefresh: 300 + index * 100, coreShare: 0.03 + index * 0.01 },
      })),
    };
    const text = renderTable({ ...result, contenders: [...result.contenders, watch] });
    expect(text).toContain('held connections (lvsprov status --watch 10): a re-check of 50 hosts takes 1.50 s, 0.30x the curve25519 floor of fresh connections;');
    expect(text).toContain('the watch costs the control node 300 ms of CPU per refresh, 3.0% of one core (medians of 2 runs).');
  });

  it('shows the time to the first connection and the handshakes allowed at once', () => {
    const text = renderTable(result);
    // lvsprov: the median of its runs' firstConnectionMs, the limit and the highest peak.
    expect(text).toMatch(/lvsprov first apply .* 90 MiB\s+5\.00 s\s+50\.0 ms\s+60%\s+110 ms\s+8 \(peak 8\)/);
    // The floor starts every host's handshake at once and reports no clock.
    expect(text).toMatch(/^floor .* -\s+all 50\s/m);
  });

  it('shows how wide the handshake gate grew where it widened', () => {
    const widened = result.contenders.map((entry) =>
      entry.id === 'lvsprov-first' ? { ...entry, runs: entry.runs.map((run, index) => ({ ...run, handshakes: { limit: 8, widest: 8 + index * 10, peak: 5 + index * 10 } })) } : entry,
    );
    const text = renderTable({ ...result, contenders: widened });
    expect(text).toMatch(/lvsprov first apply .*\s8-28 \(peak 25\)/);
    expect(text).toMatch(/lvsprov re-run .*\s8 \(peak 8\)/);
  });
});

describe('lvsprov as the bench runs it', () => {
  it("starts node with the flags of the bin's first line, as the installed command does", () => {
    const firstLine = readFileSync(cli, 'utf8').split('\n', 1)[0] ?? '';
    expect(firstLine).toMatch(/^#!\/usr\/bin\/env -S node /);
    expect(cliNodeFlags.length).toBeGreaterThan(0);
    expect(firstLine.endsWith(cliNodeFlags.join(' '))).toBe(true);
    expect(lvsprovArgv({ inventory: 'inv.yaml', hosts: 1 }).slice(1, 1 + cliNodeFlags.length + 1)).toEqual([...cliNodeFlags, cli]);
  });
});

describe('host CPU', () => {
  it("reads cutime + cstime of a /proc/PID/stat line, whatever the process's name holds", () => {
    const tail = 'S 1 100 100 0 -1 4194560 500 9000 0 0 7 3 1234 567 20 0 1 0 4242 10000 300';
    expect(childCpuTicks(`42 (sshd) ${tail}`)).toBe(1234 + 567);
    expect(ownCpuTicks(`42 (sshd) ${tail}`)).toBe(7 + 3);
    expect(childCpuTicks(`42 (a) (b) c) ${tail}`)).toBe(1234 + 567);
    expect(childCpuTicks('42 (sshd)')).toBeUndefined();
    expect(childCpuTicks('')).toBeUndefined();
  });
});

describe('machine CPU', () => {
  it('reads /proc/stat\'s cpu line: idle and iowait are waiting, the rest busy (guest time is inside user)', () => {
    expect(parseCpuLine('cpu  100 5 50 800 20 3 2 0 7 0')).toEqual({ busy: 160, total: 980 });
    expect(parseCpuLine('cpu0 100 5 50 800 20 3 2 0 0 0')).toBeUndefined();
    expect(parseCpuLine('intr 1 2 3')).toBeUndefined();
  });

  it('gives the busy share of every core between two readings', () => {
    expect(busyShare({ busy: 100, total: 1000 }, { busy: 250, total: 1200 })).toBeCloseTo(0.75);
    expect(busyShare({ busy: 100, total: 1000 }, { busy: 100, total: 1000 })).toBeUndefined();
  });
});
