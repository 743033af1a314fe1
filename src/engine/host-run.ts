import type { CompiledTask } from '../config/compile.js';
import { ApplyError, ConnectError, ConnectInterruptedError, ConnectionLostError, ExecAbortedError, LockError, ProbeError } from '../errors.js';
import type { ChangePhase, ClusterView, HostContext, RealServerRef, ResourceNote } from '../resources/types.js';
import type { HostSession } from '../transport/types.js';
import { sectionsOf } from './read-probes.js';
import { applyScript, newNonce, parseSections, readScript, unfinishedSection, type SectionResult } from './batch-script.js';
import { changeOutcomes, countOutcomes } from './change-outcomes.js';
import { drainScript, parseDrain } from './drain-script.js';
import { keptQuiesced } from './kept-quiesced.js';
import { parseBound } from '../resources/ipvs/bound-connections.js';
import { serverKey } from './wave-plan.js';
import type { ChangeOutcome, DrainResult, EventSink, HeldBackChange, HostResult, Interruption, LockWait, PlannedChange } from './events.js';
import { acquirePrelude, checkHeld, holdPrelude, reachedTwice, readLock, releaseExec, type RunLock } from './host-lock.js';
import { machineIdentityPrelude, parseMachineIdentity, type MachineRegistry } from './machine-identity.js';
import type { LockAttempt } from '../lock/lock-all.js';
import type { LockWait as LockWaitMode } from '../lock/lock-script.js';
import { changesIn, DEFAULT_ROUTE, hostNotes, hostReadPlan, phaseOf, phaseRank, planHost, type HostReadPlan } from './host-plan.js';
import type { RunMode } from './planners.js';
import { mayBeHandedOver, mayTakeOver, takeoverExec } from './vip-handover.js';
import { mayLetVipsGoSooner } from './vrrp-moves.js';
import type { VipReleases } from './vip-release.js';

// One host across an ordered apply: connect, one batched read (which takes the host lock first),
// a pure plan, then one batched exec per wave the host takes part in, and the drain poll on a
// director with leaving servers. Dry-run is not a flag threaded through the resources: the run
// stops after the plan. A failure or an interrupt ends this host's run (no later wave runs on top
// of it), and nothing here throws.

export interface HostRunOptions {
  readonly check: boolean;
  /** Which planner: `apply` (the default) or `reset`, see planners.ts. */
  readonly mode?: RunMode;
  /** Keep what the manifest records and no task declares (a run that left tasks out: --tags). */
  readonly keepUndeclared?: boolean;
  /** Taken by the read of a run that may change the host; a check takes none. */
  readonly lock?: RunLock;
  /** Start nothing new: a read or a drain in progress is stopped, an apply in progress finishes. */
  readonly interrupt?: AbortSignal;
  /** Stop at once, whatever runs. */
  readonly abort?: AbortSignal;
  /** The other hosts, as planners that depend on them see them (see ClusterView). */
  readonly cluster?: ClusterView;
  /** A host no play reaches, opened only to remove these recorded objects (see retire-peers.ts). */
  readonly retireOnly?: readonly string[];
  /** A check's record of the machines its reads ran on: one reached under two names fails the second. */
  readonly machines?: MachineRegistry;
}

type State = 'planning' | 'live' | 'failed' | 'unreachable' | 'interrupted';

export class HostRun {
  private session: HostSession | undefined;
  private readPlan$: HostReadPlan | undefined;
  private quiesced$: readonly RealServerRef[] | undefined;
  /**
   * The read's sections, kept only while a later wave may be planned again from them (withhold:
   * a director adding real servers). A host's read runs to tens of kilobytes (its files, the
   * ownership manifest), and every host of a run is read before any applies.
   */
  private sections: ReadonlyMap<number, SectionResult> | undefined;
  /** What the host's plan takes from the others (see withhold and reroute); `host` alone at first. */
  private context: HostContext;
  private hasPlan = false;
  private readonly started = performance.now();
  private state: State = 'planning';
  private interruption: Interruption | undefined;
  private error: HostResult['error'];
  private lockWait: LockWait | undefined;
  private hostLock: RunLock | undefined;
  private result: HostResult | undefined;
  /** host-start is reported once, however often the host is read. */
  private started$ = false;
  /** What became of each change whose wave was attempted. */
  private readonly outcomes = new Map<PlannedChange, ChangeOutcome>();
  /** Every change, in wave order. */
  changes: PlannedChange[] = [];
  /** hostNotes of the read. */
  private notes: ResourceNote[] = [];
  readonly heldBack: HeldBackChange[] = [];
  readonly drains: DrainResult[] = [];
  /** By serverKey: the connections a switch of the server's forwarding method found it had (bound-connections.ts). */
  private readonly bound = new Map<string, string[]>();

  constructor(
    readonly host: string,
    readonly tasks: readonly CompiledTask[],
    private readonly options: HostRunOptions,
    private readonly emit: EventSink,
  ) {
    this.context = { host, ...(options.cluster ? { cluster: options.cluster } : {}) };
  }

  /**
   * What the read asks and how its answers are planned, built when the host is first read: every
   * host's run is made before the first connection, and at 1000 hosts building every read plan
   * first (the tasks' probes, the manifest's hash of the host's records) kept the first
   * connection waiting for about half a second. A host never reached never needs one.
   */
  private get readPlan(): HostReadPlan {
    this.readPlan$ ??= hostReadPlan(this.tasks, this.options.mode ?? 'apply', undefined, this.options.keepUndeclared ?? false, this.options.retireOnly);
    return this.readPlan$;
  }

  /** The real servers this host's tasks keep at weight 0 (kept-quiesced.ts); none outside apply. */
  get quiesced(): readonly RealServerRef[] {
    this.quiesced$ ??= (this.options.mode ?? 'apply') === 'apply' ? keptQuiesced(this.tasks) : [];
    return this.quiesced$;
  }

  /** Still able to take part in a wave: read and planned, nothing failed or interrupted. */
  get live(): boolean {
    return this.state === 'live';
  }

  get done(): boolean {
    return this.result !== undefined;
  }

  /** Why it takes part in no more waves; undefined while it can. */
  get stoppedAs(): 'failed' | 'unreachable' | 'interrupted' | undefined {
    return this.state === 'failed' || this.state === 'unreachable' || this.state === 'interrupted' ? this.state : undefined;
  }

  /** Whether its plan is known: a host that failed to connect, read or plan has none. */
  get planned(): boolean {
    return this.hasPlan;
  }

  get applied(): number {
    return [...this.outcomes.values()].filter((outcome) => outcome === 'made').length;
  }

  /** The run's lock, its owner line naming this host (so that the run knows itself on a machine it reached twice). */
  private get lock(): RunLock | undefined {
    const lock = this.options.check ? undefined : this.options.lock;
    if (lock === undefined) return undefined;
    this.hostLock ??= { ...lock, owner: { ...lock.owner, host: this.host } };
    return this.hostLock;
  }

  private stopped(): boolean {
    return Boolean(this.options.interrupt?.aborted || this.options.abort?.aborted);
  }

  /** A signal for a wait that an interrupt may stop (the read, a drain). */
  private waitSignal(): AbortSignal | undefined {
    const signals = [this.options.interrupt, this.options.abort].filter((signal): signal is AbortSignal => signal !== undefined);
    return signals.length > 0 ? AbortSignal.any(signals) : undefined;
  }

  /**
   * Connect (once), take the lock and read every fact in one exec, plan. `wait` says how the read
   * waits for another run's lock (see lock-all.ts); the answer says whether the host is now locked
   * and planned, must give way to an older run, or is settled (failed, unreachable, interrupted).
   */
  async open(connect: () => Promise<HostSession>, wait: LockWaitMode = 'wait', timeoutSeconds?: number): Promise<LockAttempt> {
    if (!this.started$) {
      this.started$ = true;
      this.emit({ type: 'host-start', host: this.host });
    }
    if (this.stoppedAs || this.done) return 'settled';
    if (this.stopped()) {
      this.interrupt('before-apply');
      return 'settled';
    }
    if (!this.session) {
      this.emit({ type: 'host-phase', host: this.host, phase: 'connecting' });
      try {
        this.session = await connect();
      } catch (error) {
        if (error instanceof ConnectInterruptedError) {
          this.interrupt('before-apply');
          return 'settled';
        }
        this.fail('unreachable', { kind: error instanceof ConnectError ? 'connect' : 'internal', message: (error as Error).message });
        // Reported now, not after every other host's read: an operator sees the refusal as it happens.
        this.finish();
        return 'settled';
      }
    }
    try {
      this.emit({ type: 'host-phase', host: this.host, phase: 'reading' });
      const probes = this.readPlan.probes;
      const nonce = newNonce();
      const signal = this.waitSignal();
      const lock = this.lock;
      const machines = this.options.machines;
      const prelude = lock ? acquirePrelude(lock, nonce, wait, timeoutSeconds ?? lock.timeoutSeconds) : machines ? machineIdentityPrelude(nonce) : undefined;
      const read = await this.session.exec(readScript(nonce, probes, prelude, { alsoPrefetch: this.readPlan.alsoPrefetch }), signal ? { signal } : {});
      if (machines) {
        const machine = parseMachineIdentity(nonce, read.stdout);
        const first = machine === undefined ? undefined : machines.claim(machine, this.host);
        if (first !== undefined) throw new LockError(reachedTwice(first));
      }
      if (lock) {
        const locked = readLock(nonce, read.stdout, lock.timeoutSeconds);
        if (locked.state === 'older') return 'older';
        if (locked.wait) {
          this.lockWait = locked.wait;
          this.emit({ type: 'host-lock-waited', host: this.host, wait: locked.wait });
        }
      }
      const session = this.session;
      const held = lock ? { prelude: (again: string) => holdPrelude(lock, again), check: checkHeld } : undefined;
      const sections = await sectionsOf((script) => session.exec(script, signal ? { signal } : {}), nonce, read, probes, held);
      if (sections.size !== probes.length) {
        throw new ProbeError(`reading state failed (exit ${read.code}): ${read.stderr.trim() || 'the read script ended early'}`);
      }
      this.emit({ type: 'host-phase', host: this.host, phase: 'planning' });
      this.changes = planHost(this.readPlan, sections, this.context);
      this.notes = hostNotes(this.readPlan, sections);
      const replannable = this.changes.some((change) => mayBeWithheld(change) || mayBeRerouted(change) || mayBeHandedOver(change) || mayTakeOver(change) || mayLetVipsGoSooner(change));
      this.sections = replannable ? sections : undefined;
      this.hasPlan = true;
      this.state = 'live';
      this.emit({ type: 'host-planned', host: this.host, changes: this.changes.length });
      // Nothing to change (or only a plan to show): this host is done now, not once the last host
      // has been read, and closing its connection lets its lock go. At 1000 hosts an unchanged
      // host otherwise kept an sshd, a lock holder and keepalives for the minutes the others took.
      // A check waits for the others' plans only where they may move a change to another wave.
      // A director that keeps a real server at weight 0 waits for the others' plans: should that
      // server's host restart its daemon in retire, it drains it first (engine/wave-plan.ts).
      const mayDrain = !this.options.check && this.quiesced.length > 0;
      if ((this.changes.length === 0 && !mayDrain) || (this.options.check && !replannable)) this.finish();
      return 'acquired';
    } catch (error) {
      if (error instanceof ExecAbortedError) this.interrupt('before-apply');
      else if (error instanceof ConnectionLostError) this.fail('failed', { kind: 'connection', message: `connection lost during read (${error.message}); nothing was changed` });
      else this.failWith(error);
      return 'settled';
    }
  }

  /** Give the lock up so that an older run can finish; the read is void until done again. */
  async releaseLock(): Promise<void> {
    const lock = this.lock;
    // A host already done gave its lock up with its connection.
    if (!this.session || !lock || this.stoppedAs || this.done) return;
    this.state = 'planning';
    this.sections = undefined;
    this.hasPlan = false;
    this.changes = [];
    try {
      await this.session.exec(releaseExec(newNonce()));
    } catch (error) {
      if (error instanceof ConnectionLostError) this.fail('failed', { kind: 'connection', message: `connection lost while giving way to an older run (${error.message}); nothing was changed` });
      else this.failWith(error);
    }
  }

  /** An interrupt came before this host was read under its lock. */
  stopUnread(): void {
    if (!this.live && !this.stoppedAs) this.interrupt('before-apply');
  }

  /**
   * Plan the waves after prepare again from the same read, leaving out real servers at withheld
   * addresses (address -> why); the additions that drops are held back, with the reason.
   */
  withhold(withheld: ReadonlyMap<string, string>): void {
    if (!this.live || !this.sections) return;
    const blocked = this.changes.filter((change) => mayBeWithheld(change) && joiningAt(change).some((address) => withheld.has(address)));
    if (blocked.length === 0) return;
    const context: HostContext = { ...this.context, withheld: new Set(withheld.keys()) };
    try {
      const replanned = planHost(this.readPlan, this.sections, context);
      this.changes = [...changesIn(this.changes, 'prepare'), ...replanned.filter((change) => phaseOf(change) !== 'prepare')];
      for (const change of blocked) {
        if (change.joining !== undefined) this.holdBack(change, withheld.get(change.joining.address) ?? 'its host is not ready');
        // A config that adds several servers is written without the withheld ones: each is said apart.
        else for (const address of new Set(joiningAt(change))) {
          const why = withheld.get(address);
          const summary = `new connections to real server ${address} (${change.resource ?? change.task})`;
          // Said once per task and address, where several of its changes would add the same server.
          if (why !== undefined && !this.heldBack.some((held) => held.task === change.task && held.summary === summary)) this.holdBack({ ...change, summary }, why);
        }
      }
    } catch (error) {
      this.failWith(error);
    }
  }

  /**
   * A director switches this real server between NAT and DR or TUN: plan again from the same
   * read, before any wave ran, with its default route in the reroute wave.
   */
  reroute(): void {
    if (!this.live || !this.sections || this.done || !this.changes.some(mayBeRerouted)) return;
    this.context = { ...this.context, rerouting: true };
    try {
      this.changes = planHost(this.readPlan, this.sections, this.context);
    } catch (error) {
      this.failWith(error);
    }
  }

  /**
   * VIPs this director removes after balance that another director of the run takes over (see
   * vip-handover.ts): plan again from the same read with their removal first in balance, or, with
   * none (the new holder failed in prepare), back where they were. `takingOver`: VIPs it adds that
   * others give up, each with them: its add and announce wait for them in a second exec. Before
   * balance: the prepare changes stay as they were planned (and, at balance, made).
   */
  handOver(handingOver: ReadonlyMap<string, readonly string[]>, takingOver: ReadonlyMap<string, readonly string[]> = new Map()): void {
    if (!this.live || !this.sections || this.done) return;
    if (sameVips(this.context.handingOver, handingOver) && sameVips(this.context.takingOver, takingOver)) return;
    const { handingOver: _before, takingOver: _taking, ...context } = this.context;
    this.context = { ...context, ...(handingOver.size > 0 ? { handingOver } : {}), ...(takingOver.size > 0 ? { takingOver } : {}) };
    try {
      const replanned = planHost(this.readPlan, this.sections, this.context);
      this.changes = [...changesIn(this.changes, 'prepare'), ...replanned.filter((change) => phaseOf(change) !== 'prepare')];
    } catch (error) {
      this.failWith(error);
    }
  }

  /** Stop this host before its first wave, with the reason (a VIP a host outside the run holds). */
  refuse(reason: string): void {
    if (!this.live || this.done) return;
    this.failWith(new ProbeError(reason));
  }

  /** Drop this host's changes of one wave, with the reason (another host failed before them). */
  holdBackWave(phase: ChangePhase, reason: string): void {
    const held = changesIn(this.changes, phase);
    this.changes = this.changes.filter((change) => !held.includes(change));
    for (const change of held) this.holdBack(change, reason);
  }

  private holdBack(change: PlannedChange, reason: string): void {
    this.heldBack.push({ summary: change.summary, task: change.task, ...(change.role ? { role: change.role } : {}), phase: phaseOf(change), reason });
  }

  /** Its replies move to another director gateway in the reroute wave (Change.movesGateway). */
  get movesGateway(): boolean {
    return this.changes.some((change) => change.movesGateway === true && phaseOf(change) === 'reroute');
  }

  hasPhase(phase: ChangePhase): boolean {
    return this.changes.some((change) => phaseOf(change) === phase);
  }

  /** Whether changes not yet attempted remain in a wave after `phase` (in any wave, without one). */
  hasChangesAfter(phase: ChangePhase | undefined): boolean {
    return this.changes.some((change) => !this.outcomes.has(change) && (phase === undefined || phaseRank(phaseOf(change)) > phaseRank(phase)));
  }

  /**
   * One exec with every change of this wave (but a VIP taken over from another director: see
   * takeOver). An interrupt lets it finish (only the second one, `abort`, cuts it off); each
   * change's outcome comes from its section's status. `releases` hears, as the output streams,
   * each VIP this director lets go for another one (vip-handover.ts).
   */
  async applyWave(phase: ChangePhase, releases?: VipReleases): Promise<void> {
    const wave = changesIn(this.changes, phase).filter((change) => !change.awaitsRelease);
    if (!this.live || !this.session || wave.length === 0) return;
    if (this.stopped()) return this.interrupt(this.outcomes.size > 0 ? 'between-waves' : 'before-apply');
    const removals = wave.flatMap((change, index) => (change.handedOver ? [index] : []));
    const made = (index: number): void => {
      for (const address of wave[index]?.releases ?? []) releases?.let(this.host, address);
    };
    await this.applyChanges(phase, wave, releases && removals.length > 0 ? { indexes: removals, made } : undefined);
  }

  /**
   * The second exec of a director's balance: the VIPs it takes over from other directors, added
   * and announced once each of their old holders let them go (`releases`); one an old holder did
   * not let go, as far as the run knows, is asked after on its segment first, and added only if
   * nobody answers for it (vip-handover.ts says why). It belongs to the balance wave an interrupt
   * lets finish: the old holder may have let the VIP go already.
   */
  async takeOver(releases: VipReleases): Promise<void> {
    const waiting = this.changes.filter((change) => change.awaitsRelease && !this.outcomes.has(change));
    if (!this.live || !this.session || waiting.length === 0) return;
    const unreleased = new Map<string, string[]>();
    for (const address of new Set(waiting.map((change) => change.awaitsRelease?.address ?? ''))) {
      const from = waiting.find((change) => change.awaitsRelease?.address === address)?.awaitsRelease?.from ?? [];
      const released = await Promise.all(from.map((host) => releases.released(host, address)));
      const holders = from.filter((_, index) => !released[index]);
      if (holders.length > 0) unreleased.set(address, holders);
    }
    const { changes: go, held } = takeoverExec(waiting, unreleased);
    const kept = waiting.filter((change) => held.has(change.awaitsRelease?.address ?? ''));
    this.changes = this.changes.filter((change) => !kept.includes(change));
    for (const change of kept) this.holdBack(change, held.get(change.awaitsRelease?.address ?? '') ?? '');
    // A check joins the plan right before the add it guards, so the report shows it where it ran.
    for (const [index, change] of go.entries()) {
      if (this.changes.includes(change)) continue;
      const next = go.slice(index + 1).find((later) => this.changes.includes(later));
      this.changes.splice(next === undefined ? this.changes.length : this.changes.indexOf(next), 0, change);
    }
    if (go.length > 0) await this.applyChanges('balance', go);
  }

  /**
   * One exec with `changes`. `ended`: the indexes of changes to hear of as soon as their section
   * ended well (followed on the output as it streams, and read again from the whole output).
   */
  private async applyChanges(phase: ChangePhase, wave: readonly PlannedChange[], ended?: { readonly indexes: readonly number[]; readonly made: (index: number) => void }): Promise<void> {
    if (!this.session) return;
    this.emit({ type: 'host-phase', host: this.host, phase: 'applying', wave: phase });
    const nonce = newNonce();
    const lock = this.lock;
    const record = (outcomes: readonly ChangeOutcome[]): void => wave.forEach((change, index) => this.outcomes.set(change, outcomes[index] ?? 'not-made'));
    const heard = new Set<number>();
    const hear = (sections: ReadonlyMap<number, SectionResult>): void => {
      for (const index of ended?.indexes ?? []) {
        if (heard.has(index) || sections.get(index)?.status !== 0) continue;
        heard.add(index);
        ended?.made(index);
      }
    };
    let streamed = '';
    const watch = ended
      ? (text: string): void => {
          streamed += text;
          if (heard.size < ended.indexes.length) hear(parseSections(nonce, streamed));
        }
      : undefined;
    try {
      const script = applyScript(nonce, wave.map((change) => change.commands), lock ? holdPrelude(lock, nonce) : undefined);
      const result = await this.session.exec(script, { ...(this.options.abort ? { signal: this.options.abort } : {}), ...(watch ? { watch } : {}) });
      if (lock) checkHeld(nonce, result.stdout);
      const done = parseSections(nonce, result.stdout);
      hear(done);
      const outcomes = changeOutcomes(wave.length, done, true);
      record(outcomes);
      this.recordBound(wave, done);
      const made = countOutcomes(outcomes).made;
      if (made !== wave.length) {
        const output = done.get(made)?.stdout ?? unfinishedSection(nonce, result.stdout, made) ?? result.stderr;
        throw new ApplyError(`${wave[made]?.summary ?? 'apply'} failed (exit ${done.get(made)?.status ?? result.code})`, output.trim());
      }
    } catch (error) {
      if (error instanceof ExecAbortedError || error instanceof ConnectionLostError) {
        const sections = parseSections(nonce, error.stdout);
        hear(sections);
        const outcomes = changeOutcomes(wave.length, sections, false);
        record(outcomes);
        this.recordBound(wave, sections);
        if (error instanceof ExecAbortedError) return this.interrupt('mid-wave');
        const counts = countOutcomes(outcomes);
        const message = `connection lost during apply (${error.message}): ${this.applied} change(s) made, ${counts.unknown} unknown (the host may have made them)`;
        this.fail('failed', { kind: 'connection', message });
        return;
      }
      if (!wave.some((change) => this.outcomes.has(change))) record([]);
      this.failWith(error);
    }
  }

  /** The connections each forwarding switch of `wave` listed, from its section's output. */
  private recordBound(wave: readonly PlannedChange[], sections: ReadonlyMap<number, SectionResult>): void {
    wave.forEach((change, index) => {
      const section = sections.get(index);
      if (!change.rebinds || section?.status !== 0) return;
      const key = serverKey(change.rebinds.server);
      this.bound.set(key, [...(this.bound.get(key) ?? []), ...parseBound(section.stdout)]);
    });
  }

  /**
   * Wait, in one exec held open on the host, until no leaving server has an active connection
   * here, or the timeout (0: one look, which counts what the deletion cuts). A server whose
   * forwarding this director switched counts only the connections the switch listed. An
   * interrupt stops the wait: the servers stay quiesced, not deleted.
   */
  async drain(servers: readonly RealServerRef[], timeoutSeconds: number, movedVips: readonly string[] = []): Promise<void> {
    if (!this.live || !this.session || servers.length === 0) return;
    if (this.stopped()) return this.interrupt('between-waves');
    this.emit({ type: 'host-phase', host: this.host, phase: 'draining', wave: 'balance' });
    const nonce = newNonce();
    const lock = this.lock;
    try {
      const signal = this.waitSignal();
      const bound = servers.map((server) => this.bound.get(serverKey(server)));
      const result = await this.session.exec(drainScript(servers, timeoutSeconds, lock ? holdPrelude(lock, nonce) : undefined, movedVips, bound), signal ? { signal } : {});
      if (lock) checkHeld(nonce, result.stdout);
      const outcome = parseDrain(result.stdout, servers.length);
      if (!outcome) {
        const names = servers.map((server) => server.server).join(', ');
        throw new ApplyError(`draining ${names} failed (exit ${result.code})`, `${result.stdout}${result.stderr}`.trim());
      }
      servers.forEach((server, index) => {
        this.drains.push({ ...server, active: outcome.active[index] ?? 0, drained: outcome.drained, seconds: outcome.seconds });
      });
    } catch (error) {
      if (error instanceof ExecAbortedError) return this.interrupt('between-waves');
      if (error instanceof ConnectionLostError) {
        this.fail('failed', { kind: 'connection', message: `connection lost while draining (${error.message}); the leaving servers stay quiesced, not deleted` });
        return;
      }
      this.failWith(error);
    }
  }

  private interrupt(where: Interruption): void {
    this.state = 'interrupted';
    this.interruption = where;
  }

  private failWith(error: unknown): void {
    const kind = error instanceof ApplyError ? 'apply' : error instanceof ProbeError ? 'probe' : error instanceof LockError ? 'lock' : 'internal';
    this.fail('failed', { kind, message: (error as Error).message, ...(error instanceof ApplyError ? { output: error.output } : {}) });
  }

  private fail(status: 'failed' | 'unreachable', error: NonNullable<HostResult['error']>): void {
    this.state = status;
    this.error = error;
  }

  /** The host's result, once: closes its connection and reports it. */
  finish(): HostResult {
    if (this.result) return this.result;
    const check = this.options.check;
    const applied = this.applied;
    const attempted = this.outcomes.size > 0 || (this.state === 'interrupted' && this.changes.length > 0);
    const status = this.state === 'live' || this.state === 'planning' ? ((check ? this.changes.length : applied) > 0 ? 'changed' : 'ok') : this.state;
    this.result = {
      host: this.host,
      status,
      changes: this.changes,
      applied,
      ...(attempted && !check ? { outcomes: this.changes.map((change) => this.outcomes.get(change) ?? 'not-made') } : {}),
      ...(this.interruption ? { interrupted: this.interruption } : {}),
      ...(this.heldBack.length > 0 ? { heldBack: this.heldBack } : {}),
      ...(this.notes.length > 0 ? { notes: this.notes } : {}),
      ...(this.drains.length > 0 ? { drains: this.drains } : {}),
      ...(this.lockWait ? { lock: this.lockWait } : {}),
      ...(this.error ? { error: this.error } : {}),
      stats: { connections: this.session?.stats.connections ?? 0, channels: this.session?.stats.channels ?? 0, execs: this.session?.stats.execs ?? 0 },
      seconds: (performance.now() - this.started) / 1000,
    };
    // The shell's exit, once the connection's input ends, gives the lock up (lock-script.ts).
    this.session?.close();
    this.emit({ type: 'host-done', result: this.result });
    return this.result;
  }
}

/** Whether two maps of VIPs to hosts (HostContext.handingOver, takingOver) say the same; absent is empty. */
function sameVips(before: ReadonlyMap<string, readonly string[]> | undefined, now: ReadonlyMap<string, readonly string[]>): boolean {
  const was = before ?? new Map<string, readonly string[]>();
  return was.size === now.size && [...now].every(([address, hosts]) => was.get(address)?.join() === hosts.join());
}

/** A change a withheld real server can drop: it adds one, or asks more of one (a new method, weight after 0), after the wave that prepares it. */
const mayBeWithheld = (change: PlannedChange): boolean => phaseOf(change) !== 'prepare' && joiningAt(change).length > 0;

/** The addresses of the real servers a change adds to a director or asks more of. */
const joiningAt = (change: PlannedChange): readonly string[] => (change.joining !== undefined ? [change.joining.address] : (change.joiningAddresses ?? []));

/** A change a forwarding switch on a director moves to the reroute wave (see planHost). */
const mayBeRerouted = (change: PlannedChange): boolean => change.resource === DEFAULT_ROUTE;
