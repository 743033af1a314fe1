import type { BenchResult, ContenderResult, Range } from './suite.js';

// The human report: medians and ranges, ratios to the floor and to Ansible measured in this same
// run, and each target with the number that meets or misses it.

function seconds(value: number): string {
  return `${value.toFixed(2)} s`;
}

function span(ranges: readonly Range[]): string {
  if (ranges.length === 0) return '-';
  const min = Math.min(...ranges.map((r) => r.min));
  const max = Math.max(...ranges.map((r) => r.max));
  return min === max ? String(min) : `${min}-${max}`;
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((cell, index) => (index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0))).join('  ');
}

export function ratios(result: BenchResult): { first?: number; rerun?: number; ansibleFirst?: number; ansibleRerun?: number } {
  const median = (id: ContenderResult['id']): number | undefined => result.contenders.find((c) => c.id === id)?.seconds?.median;
  const floor = median('floor');
  const out: { first?: number; rerun?: number; ansibleFirst?: number; ansibleRerun?: number } = {};
  const first = median('lvsprov-first');
  const rerun = median('lvsprov-rerun');
  const ansibleFirst = median('ansible-first');
  const ansibleRerun = median('ansible-rerun');
  if (floor && first) out.first = first / floor;
  if (floor && rerun) out.rerun = rerun / floor;
  if (first && ansibleFirst) out.ansibleFirst = ansibleFirst / first;
  if (rerun && ansibleRerun) out.ansibleRerun = ansibleRerun / rerun;
  return out;
}

export function renderTable(result: BenchResult): string {
  const floor = result.contenders.find((c) => c.id === 'floor')?.seconds?.median;
  const curveFloor = result.contenders.find((c) => c.id === 'floor-curve25519')?.seconds?.median;
  const header = ['contender', 'median', 'min-max', 'x floor', 'x c25519 floor', 'ansible / this', 'per host', 'max RSS', 'ctl CPU', 'host CPU', 'busy', '1st conn', 'handshakes', 'sshd: conns', 'sessions', 'lvsprov: conns', 'execs'];
  const rows = result.contenders.map((contender) => {
    if (!contender.seconds) return [contender.label, contender.skipped ?? 'failed (below)'];
    const { median, min, max } = contender.seconds;
    const ansiblePeer = contender.id === 'lvsprov-first' ? 'ansible-first' : contender.id === 'lvsprov-rerun' ? 'ansible-rerun' : undefined;
    const peer = ansiblePeer ? result.contenders.find((c) => c.id === ansiblePeer)?.seconds?.median : undefined;
    const rss = contender.runs.map((run) => run.maxRssKiB ?? 0);
    const client = contender.runs.flatMap((run) => run.clientCounts ?? []);
    return [
      contender.label,
      seconds(median),
      `${min.toFixed(2)}-${max.toFixed(2)}`,
      floor ? `${(median / floor).toFixed(2)}x` : '',
      curveFloor ? `${(median / curveFloor).toFixed(2)}x` : '',
      peer ? `${(peer / median).toFixed(1)}x` : '',
      `${((median / result.hosts) * 1000).toFixed(1)} ms`,
      Math.max(...rss) > 0 ? `${(Math.max(...rss) / 1024).toFixed(0)} MiB` : '-',
      controlCpu(contender),
      hostCpu(contender, result.hosts),
      machineBusy(contender),
      firstConnection(contender),
      handshakes(contender, result.hosts),
      span(contender.runs.map((run) => run.server.connections)),
      span(contender.runs.map((run) => run.server.sessions)),
      client.length ? span(client.map((c) => ({ min: c.connections, max: c.connections }))) : '',
      client.length ? span(client.map((c) => ({ min: c.execs, max: c.execs }))) : '',
    ];
  });
  // Rows without numbers (skipped, failed) carry a note in place of the median; it must not
  // widen the numeric columns.
  const full = [header, ...rows.filter((row) => row.length === header.length)];
  const widths = header.map((_, index) => Math.max(...(index === 0 ? [header, ...rows] : full).map((row) => (row[index] ?? '').length)));
  const lines = [
    `lvsprov bench: ${result.hosts} hosts, ${result.reps} measured reps${result.ansible ? ` (Ansible ${result.ansibleReps})` : ''} ${result.warmUp === false ? 'without a warm-up' : 'after 1 warm-up'}, ${result.machine.cpus} CPUs, node ${result.machine.node}` +
      `${result.ansible ? `, ${result.ansible}` : ''}; lab up in ${result.labUpSeconds.toFixed(1)} s; ` +
      `root .bashrc on the hosts: ${result.hostBashrc ? "this machine's (--host-bashrc)" : 'stock'}; ` +
      `load ${result.machine.loadBefore.map((n) => n.toFixed(1)).join(' ')} -> ${result.machine.loadAfter.map((n) => n.toFixed(1)).join(' ')}`,
    '',
    pad(header, widths),
    ...rows.map((row) => (row.length === header.length ? pad(row, widths) : `${(row[0] ?? '').padEnd(widths[0] ?? 0)}  ${row[1] ?? ''}`)),
    '',
    'floor: one fresh OpenSSH login per host running one command, all hosts at once; the c25519 floor pins OpenSSH to',
    'curve25519-sha256 (what lvsprov\'s ssh2 negotiates) instead of its default sntrup761x25519-sha512.',
    'max RSS: the largest single process of a run (GNU time); ctl CPU: user+system CPU of the run on the control node',
    '(GNU time: the tool and every child it waited for, e.g. all of the floor\'s ssh clients; not the hosts\' sshd);',
    'host CPU: median CPU per host of the hosts\' side (its sshd and every process that sshd reaped: login, shell, scripts',
    'and their programs; not what outlives the run, such as a daemon an apply started);',
    'busy: the share of the whole machine\'s CPU (every core; the hosts\' sshds and scripts run on it too) in use during the run;',
    'sshd columns: per host, from each sshd\'s own VERBOSE log;',
    'lvsprov columns: per host, from lvsprov --json stats; 1st conn: median ms from process start to the first connection',
    'attempt (lvsprov --json firstConnectionMs); handshakes: SSH handshakes allowed in flight at once, from where the gate starts to the widest it grew (peak seen).',
    '',
    ...watchLines(result),
    ...failureLines(result),
    ...targetLines(result),
  ];
  return lines.join('\n');
}

/** Median CPU seconds the run cost the control node (GNU time: the tool and the children it waited for). */
function controlCpu(contender: ContenderResult): string {
  const cpu = contender.runs.flatMap((run) => (run.cpuSeconds !== undefined ? [run.cpuSeconds] : [])).sort((a, b) => a - b);
  return cpu.length > 0 ? `${(cpu[Math.floor((cpu.length - 1) / 2)] as number).toFixed(2)} s` : '-';
}

/** Median CPU milliseconds per host of the hosts' side of the run (what their sshds reaped). */
function hostCpu(contender: ContenderResult, hosts: number): string {
  const cpu = contender.runs.flatMap((run) => (run.hostCpuSeconds !== undefined ? [run.hostCpuSeconds] : [])).sort((a, b) => a - b);
  return cpu.length > 0 ? `${(((cpu[Math.floor((cpu.length - 1) / 2)] as number) / hosts) * 1000).toFixed(1)} ms` : '-';
}

/** Median share of the machine's CPU busy during the run (every core, every process). */
function machineBusy(contender: ContenderResult): string {
  const shares = contender.runs.flatMap((run) => (run.machineBusy !== undefined ? [run.machineBusy] : [])).sort((a, b) => a - b);
  return shares.length > 0 ? `${Math.round((shares[Math.floor((shares.length - 1) / 2)] as number) * 100)}%` : '-';
}

/** Median milliseconds from process start to the first connection attempt, where the tool reports it. */
function firstConnection(contender: ContenderResult): string {
  const times = contender.runs.flatMap((run) => (run.firstConnectionMs !== undefined ? [run.firstConnectionMs] : [])).sort((a, b) => a - b);
  return times.length > 0 ? `${Math.round(times[Math.floor((times.length - 1) / 2)] as number)} ms` : '-';
}

/**
 * Handshakes allowed at once: the gate's start and, where it widened, the widest it was in any
 * run (and the most in flight); the floor starts every host's at once.
 */
function handshakes(contender: ContenderResult, hosts: number): string {
  const reported = contender.runs.flatMap((run) => (run.handshakes ? [run.handshakes] : []));
  if (reported.length === 0) return contender.id.startsWith('floor') ? `all ${hosts}` : '-';
  const limits = [...new Set(reported.map((entry) => entry.limit))].join('/');
  const widest = Math.max(...reported.map((entry) => entry.widest ?? entry.limit));
  const start = Math.max(...reported.map((entry) => entry.limit));
  return `${limits}${widest > start ? `-${widest}` : ''} (peak ${Math.max(...reported.map((entry) => entry.peak))})`;
}

/** status --watch: the re-check over held connections against the fresh-connection floor, and its CPU. */
function watchLines(result: BenchResult): string[] {
  const watch = result.contenders.find((c) => c.id === 'lvsprov-watch');
  const figures = watch?.runs.flatMap((run) => (run.watch ? [run.watch] : [])) ?? [];
  if (!watch?.seconds || figures.length === 0) return [];
  const curveFloor = result.contenders.find((c) => c.id === 'floor-curve25519')?.seconds?.median;
  const cpu = figures.map((entry) => entry.cpuMsPerRefresh).sort((a, b) => a - b);
  const share = figures.map((entry) => entry.coreShare).sort((a, b) => a - b);
  const mid = <T>(values: readonly T[]): T => values[Math.floor((values.length - 1) / 2)] as T;
  return [
    `held connections (lvsprov status --watch ${figures[0]?.interval}): a re-check of ${result.hosts} hosts takes ${seconds(watch.seconds.median)}` +
      `${curveFloor ? `, ${(watch.seconds.median / curveFloor).toFixed(2)}x the curve25519 floor of fresh connections` : ''};`,
    `  the watch costs the control node ${mid(cpu).toFixed(0)} ms of CPU per refresh, ${(mid(share) * 100).toFixed(1)}% of one core (medians of ${figures.length} runs).`,
    '',
  ];
}

function firstLine(text: string | undefined): string {
  return (text ?? 'no runs').split('\n')[0] ?? '';
}

function failureLines(result: BenchResult): string[] {
  const lines = result.contenders.flatMap((contender) =>
    (contender.failures ?? []).map((failure) => `  ${contender.label}, ${failure.rep === 0 ? 'warm-up' : `rep ${failure.rep}`}: ${firstLine(failure.message)}`),
  );
  return lines.length > 0 ? ['failed runs (not samples):', ...lines, ''] : [];
}

/**
 * The targets against the curve25519 floor (like for like: the key exchange lvsprov's ssh2 uses):
 * re-run 1.3x at 50 hosts and 1.15x at 1000, first apply 1.8x and 1.4x; between the two host
 * counts the bound moves with log(hosts), outside them it stays at the nearer one.
 */
export function floorBound(hosts: number, at50: number, at1000: number): number {
  const position = Math.min(1, Math.max(0, Math.log(hosts / 50) / Math.log(1000 / 50)));
  return at50 + (at1000 - at50) * position;
}

function targetLines(result: BenchResult): string[] {
  const r = ratios(result);
  const line = (what: string, value: number | undefined, ok: (v: number) => boolean, unit: string): string =>
    value === undefined ? `  ${what}: not measured` : `  ${what}: ${value.toFixed(2)}${unit} ${ok(value) ? 'met' : 'MISSED'}`;
  const median = (id: ContenderResult['id']): number | undefined => result.contenders.find((c) => c.id === id)?.seconds?.median;
  const curveFloor = median('floor-curve25519');
  const toCurve = (id: ContenderResult['id']): number | undefined => {
    const value = median(id);
    return value && curveFloor ? value / curveFloor : undefined;
  };
  const rerunBound = floorBound(result.hosts, 1.3, 1.15);
  const firstBound = floorBound(result.hosts, 1.8, 1.4);
  const rss = Math.max(0, ...result.contenders.filter((c) => c.id.startsWith('lvsprov')).flatMap((c) => c.runs.map((run) => run.maxRssKiB ?? 0))) / 1024;
  return [
    `targets (${result.hosts} hosts):`,
    line(`re-run <= ${rerunBound.toFixed(2)}x the curve25519 floor`, toCurve('lvsprov-rerun'), (v) => v <= rerunBound, 'x'),
    line(`first apply <= ${firstBound.toFixed(2)}x the curve25519 floor`, toCurve('lvsprov-first'), (v) => v <= firstBound, 'x'),
    line('lvsprov peak RSS <= 300 MiB', rss > 0 ? rss : undefined, (v) => v <= 300, ' MiB'),
    line('ansible first run / lvsprov first apply >= 10', r.ansibleFirst, (v) => v >= 10, 'x'),
    line('ansible re-run / lvsprov re-run >= 10', r.ansibleRerun, (v) => v >= 10, 'x'),
  ];
}
