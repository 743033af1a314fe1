import type { VrrpGroup } from '../../config/ha-model.js';
import { resolveHa } from '../../config/ha-model.js';
import { loadInventory, type LoadedInventory } from '../../config/inventory.js';
import { newNonce } from '../../engine/batch-script.js';
import { ConfigError } from '../../errors.js';
import { daemonScript } from '../../resources/keepalived/daemon.js';
import type { ConnectOptions } from '../../transport/types.js';
import { pickClient } from '../run-verify.js';
import { SessionPool } from '../session-pool.js';
import { verifyTargets } from '../targets.js';
import { holdersOf, readDirectors, takeoverWatchScript, vipDevices, type VipDevices } from './directors.js';
import { instanceName, planDrill, type DirectorSeen, type DrillPlan } from './drill-plan.js';
import { worstOutage } from './outage.js';
import type { FailoverDrill, FailoverPhase, FailoverReport, PhaseKind } from './report.js';
import { stopScript, streamScript, StreamLog } from './stream-script.js';
import { judgePhase } from './verdict.js';

// `verify --failover`: per VRRP instance, while the client sends requests to its VIPs, stop
// keepalived on the master, wait for the backup to hold the VIPs and answer, start keepalived
// again and wait for the master to take them back (or to stand by, with nopreempt). Whatever
// happens (a failed check, a lost host, Ctrl-C), keepalived is started again on a master the
// drill stopped, and the report says so when it could not be.

export interface FailoverOptions extends ConnectOptions {
  readonly ratePerSecond: number;
  readonly maxGapSeconds: number;
  /** Per request. */
  readonly timeoutSeconds: number;
  readonly client?: string;
  readonly sshConfigFile?: string;
  /** Aborted: stop where the drill is, put keepalived back, report. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (line: string) => void;
}

/** How long the drill waits for a holder, an answer, or the first answers of the stream. */
const WAIT_MS = 30_000;
/** Traffic watched after a handover completed, where a failed request would show. */
export const SETTLE_MS = 2000;
const POLL_MS = 200;
/** The stream ends by itself after this long, should the drill lose its client. */
const STREAM_LIMIT_SECONDS = 600;

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Polls `condition` until it holds (true), or the time is up or the signal aborted (false). */
async function waitFor(condition: () => boolean | Promise<boolean>, ms: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline || signal?.aborted) return false;
    await sleep(POLL_MS, signal);
  }
}

interface Context {
  readonly inventory: LoadedInventory;
  readonly pool: SessionPool;
  readonly client: string;
  readonly options: FailoverOptions;
  readonly urlsOf: (group: VrrpGroup) => string[];
  /** lvs.ha's advert_interval, in seconds. */
  readonly advertInterval: number;
}

export async function failoverDrill(inventoryOrFile: LoadedInventory | string, options: FailoverOptions): Promise<FailoverReport> {
  const started = performance.now();
  const inventory = typeof inventoryOrFile === 'string' ? loadInventory(inventoryOrFile) : inventoryOrFile;
  const ha = resolveHa(inventory);
  if (!ha) throw new ConfigError([inventory.source.problem(['lvs'], 'verify --failover drills a VRRP handover, and this inventory has no lvs.ha')]);
  const client = pickClient(inventory, options.client);
  const requests = verifyTargets(inventory.services).requests;
  const urlsOf = (group: VrrpGroup): string[] => {
    const vips = new Set(group.vips.map((vip) => vip.address));
    return [...new Set(requests.filter((target) => vips.has(target.service.address as string)).map((target) => target.url))];
  };
  const pool = new SessionPool(inventory, options);
  const drills: FailoverDrill[] = [];
  try {
    for (const group of ha.groups) {
      const base = { instance: instanceName(group), vips: group.vips.map((vip) => vip.address), urls: urlsOf(group) };
      if (options.signal?.aborted) drills.push({ ...base, status: 'not-run', phases: [], problems: ['interrupted before this drill'] });
      else drills.push(await drillGroup({ inventory, pool, client, options, urlsOf, advertInterval: ha.settings.advert_interval }, group));
    }
  } finally {
    pool.close();
  }
  const hosts = pool.contacts();
  return {
    ...(inventory.data.name !== undefined ? { cluster: inventory.data.name } : {}),
    client,
    ratePerSecond: options.ratePerSecond,
    maxGapSeconds: options.maxGapSeconds,
    drills,
    hosts,
    failures: drills.filter((drill) => drill.status === 'fail' || drill.status === 'refused').flatMap((drill) => drill.problems.map((problem) => `${drill.instance}: ${problem}`)),
    unreachable: hosts.filter((host) => !host.reachable).map((host) => `${host.host}: ${host.error ?? 'unreachable'}`),
    interrupted: options.signal?.aborted ?? false,
    seconds: (performance.now() - started) / 1000,
  };
}

async function drillGroup(context: Context, group: VrrpGroup): Promise<FailoverDrill> {
  const { pool, client, options } = context;
  const signal = options.signal;
  const urls = context.urlsOf(group);
  const base = { instance: instanceName(group), vips: group.vips.map((vip) => vip.address), urls };
  const devices = vipDevices(context.inventory, group);
  const seen = await readDirectors(pool, group, devices);
  const decision = planDrill(group, seen);
  if ('refused' in decision) {
    const unread = seen.some((director) => director.running === undefined);
    return { ...base, status: unread ? 'not-run' : 'refused', phases: [], problems: [decision.refused] };
  }
  const { plan } = decision;
  const planned = { ...base, master: plan.master.host, backup: plan.backup.host, preempts: plan.preempts };
  if (urls.length === 0) return { ...planned, status: 'refused', phases: [], problems: [`no TCP service on ${base.vips.join(', ')}: there is no request to measure the handover with`] };

  const progress = (line: string): void => options.onProgress?.(`${plan.instance}: ${line}`);
  progress(`${plan.master.host} holds ${plan.vips.join(', ')}; ${client} sends ${options.ratePerSecond} request(s) per second to ${urls.join(', ')}`);
  const nonce = newNonce();
  const log = new StreamLog(nonce);
  const everyMs = Math.max(1, Math.round(1000 / options.ratePerSecond));
  const script = streamScript({ nonce, urls, everyMs, timeoutMs: options.timeoutSeconds * 1000, limitSeconds: STREAM_LIMIT_SECONDS });
  const stream = pool.run(client, 'client', script, { onStdout: (chunk) => log.push(chunk) });
  const problems: string[] = [];
  const phases: FailoverPhase[] = [];
  let stopped: string | undefined;
  let leftBehind: string | undefined;
  try {
    const answered = (sinceSent: number): boolean => urls.every((_, target) => log.records.some((record) => record.target === target && record.ok && record.sent >= sinceSent));
    let ended = false;
    void stream.then(() => {
      ended = true;
    });
    await waitFor(() => ended || log.noNode || answered(0), WAIT_MS * 2, signal);
    if (log.noNode) return { ...planned, status: 'refused', phases, problems: [`the client ${client} has no node: the drill's request stream runs in node (pass --client HOST for a host that has it)`] };
    if (!answered(0)) {
      const reasons = [...new Set(log.records.slice(-5).map((record) => record.detail))].join('; ');
      const why = signal?.aborted ? 'interrupted before the drill' : `no request from ${client} was answered before the drill${reasons ? ` (${reasons})` : ''}: there is nothing to measure a handover against`;
      return { ...planned, status: signal?.aborted ? 'not-run' : 'refused', phases, problems: [why] };
    }
    const clientNow = (): number => log.clientNow() ?? Date.now();
    let current: { kind: PhaseKind; action: string; actionAt: number; heldAt?: number; waitProblem?: string } | undefined;
    let watch: TakeoverWatch | undefined;
    for (const [index, step] of plan.steps.entries()) {
      if (signal?.aborted) break;
      if (step.kind === 'stop' || step.kind === 'start') {
        const action = `${step.kind} keepalived on ${step.host}`;
        const next = plan.steps[index + 1];
        watch = next?.kind === 'await-holder' ? watchTakeover(pool, next.holder, devices, () => clientNow()) : undefined;
        // The watch must be polling before the action, or a quick takeover is seen only when it starts.
        if (watch) await Promise.race([watch.ready, sleep(WAIT_MS, signal)]);
        current = { kind: step.kind === 'stop' ? 'failover' : 'return', action, actionAt: clientNow() };
        progress(action);
        // Counted as stopped before the stop runs: a channel lost midway may still have stopped it.
        if (step.kind === 'stop') stopped = step.host;
        const run = await pool.run(step.host, 'director', `${daemonScript(step.kind)}\n`);
        if (!run || run.code !== 0) {
          problems.push(`${action} failed: ${run ? `exit ${run.code}: ${(run.stderr || run.stdout).trim()}` : 'the host could not be reached'}`);
          break;
        }
        if (step.kind === 'start') stopped = undefined;
      } else if (step.kind === 'await-holder' && current) {
        const held = await waitFor(async () => holdsAlone(await readDirectors(pool, group, devices), step.holder, plan), WAIT_MS, signal);
        if (!held) {
          current.waitProblem = `${step.holder} did not hold ${plan.vips.join(', ')} alone within ${WAIT_MS / 1000} s of ${current.action}`;
          continue;
        }
        // When the holder's own watch saw the VIPs arrive; the polls above only confirm it is alone.
        const heldAt = (await Promise.race([watch?.heldAt ?? Promise.resolve(undefined), sleep(5000).then(() => undefined)])) ?? clientNow();
        current.heldAt = heldAt;
        progress(`${step.holder} holds ${plan.vips.join(', ')}`);
        if (!(await waitFor(() => answered(heldAt), WAIT_MS, signal))) current.waitProblem = `no request sent after ${step.holder} took ${plan.vips.join(', ')} was answered within ${WAIT_MS / 1000} s`;
      } else if (step.kind === 'await-standby' && current) {
        const standing = await waitFor(async () => {
          const now = await readDirectors(pool, group, devices);
          return now.find((director) => director.host === step.host)?.running === true && holdsAlone(now, step.holder, plan);
        }, WAIT_MS, signal);
        if (!standing) current.waitProblem = `${step.host} did not stand by (keepalived running, ${step.holder} keeping ${plan.vips.join(', ')}) within ${WAIT_MS / 1000} s`;
        // A returning director that would preempt does so within a few adverts: watch that long.
        await sleep((3 * context.advertInterval + 1) * 1000, signal);
      } else if (step.kind === 'check' && current) {
        await sleep(SETTLE_MS, signal);
        const to = clientNow();
        const holders = holdersOf(await readDirectors(pool, group, devices));
        const phase = judgePhase({
          ...current,
          expected: step.holder,
          vips: plan.vips,
          seen: worstOutage(log.records, urls.length, current.actionAt, to, current.heldAt),
          holders,
          maxGapMs: options.maxGapSeconds * 1000,
          intervalMs: everyMs,
        });
        phases.push(phase);
        progress(`${current.action}: longest gap ${phase.gapSeconds.toFixed(2)} s, ${phase.failed} of ${phase.sent} request(s) failed: ${phase.status}`);
        current = undefined;
      }
    }
  } finally {
    if (stopped) leftBehind = await restart(context, stopped, plan, problems);
    await pool.run(client, 'client', stopScript(nonce));
    await Promise.race([stream, sleep(options.timeoutSeconds * 1000 + 5000)]);
  }
  if (signal?.aborted) problems.push('interrupted: the drill stopped before its last check');
  const failed = problems.length > 0 || phases.some((phase) => phase.status === 'fail') || phases.length < 2;
  return {
    ...planned,
    status: signal?.aborted && phases.length < 2 ? 'not-run' : failed ? 'fail' : 'pass',
    phases,
    problems: [...problems, ...phases.flatMap((phase) => phase.problems.map((problem) => `${phase.action}: ${problem}`))],
    ...(leftBehind !== undefined ? { leftBehind } : {}),
  };
}

interface TakeoverWatch {
  /** Resolves once the watch runs on the holder (or has ended), so the action may start. */
  readonly ready: Promise<void>;
  /** The client-clock time at which the holder had every VIP, undefined if it never did. */
  readonly heldAt: Promise<number | undefined>;
}

function watchTakeover(pool: SessionPool, holder: string, devices: VipDevices, clientNow: () => number): TakeoverWatch {
  const nonce = newNonce();
  const script = takeoverWatchScript(nonce, devices.get(holder) ?? new Map<string, string>(), WAIT_MS / 1000);
  let output = '';
  let onReady = (): void => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const heldAt = new Promise<number | undefined>((resolve) => {
    void pool
      .run(holder, 'director', script, {
        onStdout: (text) => {
          output += text;
          if (output.includes(`${nonce} watching`)) onReady();
          if (output.includes(`${nonce} held`)) resolve(clientNow());
        },
      })
      .then(() => {
        onReady();
        resolve(undefined);
      });
  });
  return { ready, heldAt };
}

function holdsAlone(seen: readonly DirectorSeen[], holder: string, plan: DrillPlan): boolean {
  const holders = holdersOf(seen);
  return holders.length === 1 && holders[0] === holder && plan.vips.every((vip) => seen.find((director) => director.host === holder)?.holds.includes(vip));
}

/** Starts keepalived again on a master the drill stopped; says what is left when it cannot. */
async function restart(context: Context, host: string, plan: DrillPlan, problems: string[]): Promise<string | undefined> {
  context.options.onProgress?.(`${plan.instance}: start keepalived on ${host} again`);
  const run = await context.pool.run(host, 'director', `${daemonScript('start')}\n`);
  if (run && run.code === 0) return undefined;
  const why = run ? `exit ${run.code}: ${(run.stderr || run.stdout).trim()}` : 'the host could not be reached';
  problems.push(`starting keepalived on ${host} again failed (${why})`);
  return `keepalived is stopped on ${host} (${plan.backup.host} should hold ${plan.vips.join(', ')}): start it there with \`systemctl start keepalived\` or \`/etc/init.d/keepalived start\``;
}
