import { z } from 'zod';
import { command, quote } from '../shell/quote.js';
import { refuseControlCharacters } from '../config/text-safety.js';
import { absolutePath, packageName, serviceUnitName } from '../config/values.js';
import type { Change, HostContext, ProbeOutput, ResourceType } from './types.js';
import { enablerProbe, RUNLEVEL_LINK_DIRS, startLinkProbe, updateRcDEnableCommands } from './sysv-links.js';
import { ABSENT_FILE, parseFileLine, readFileSnippet, removeFileChange, writeFileChange, type FileState } from './file-state.js';
import { dropInContent, dropInPath, isOurDropIn } from './service-drop-in.js';

// A long-running service, driven by whichever manager the host has: systemd on production hosts,
// sysvinit scripts on old ones, and - on lab hosts, which are network namespaces with no init of
// their own - a foreground daemon that start-stop-daemon backgrounds and tracks by a pidfile.

/**
 * A host's standing in the LVS pool (the derived variable real_server_pool): a real server that
 * directors send new connections to (weight above 0 in some service), one they list only at
 * weight 0, or none.
 */
export const POOL_STANDINGS = ['weighted', 'quiesced', 'none'] as const;

// Numbers are accepted because `{{ web_port }}` renders to the number the inventory holds.
const argument = z
  .union([z.string(), z.number()])
  .transform(String)
  .pipe(z.string().superRefine(refuseControlCharacters));

// A program by its absolute path and its arguments, each passed as one word: a daemon's exec, and
// the commands around a start.
const argv = z.tuple([absolutePath], argument);

// Around a start, the program's path is also written bare into a systemd unit's ExecStartPre= and
// ExecStartPost= lines (service-drop-in.ts), where a blank, a quote, `%` or `$` would mean more.
const hookProgram = absolutePath.pipe(z.string().regex(/^[A-Za-z0-9_.,:=+/@-]+$/, 'may hold only letters, digits and _ . , : = + / @ - (it is written into a systemd unit)'));
const hookArgv = z.tuple([hookProgram], argument);

export const serviceSchema = z
  .object({
    // A leading dash would make systemctl, update-rc.d and the init script read the name as an option.
    name: serviceUnitName
      .refine((value) => !value.startsWith('-'), { message: 'must not start with -' })
      // systemd.unit(5): a name ending in @ is a template, which cannot be started or enabled itself.
      .refine((value) => !value.endsWith('@') && !value.startsWith('@'), { message: 'names a systemd template, which cannot be started itself: name an instance of it (NAME@INSTANCE, e.g. getty@tty1)' }),
    state: z.enum(['started', 'stopped']).default('started'),
    enabled: z.boolean().default(true),
    /** argv of a foreground daemon; used only where neither systemd nor an init script knows `name`. */
    exec: argv.optional(),
    /**
     * For a daemon that carries a virtual service's traffic: its host's standing in the pool, as
     * the derived variable real_server_pool gives it. A restart refuses new connections for a
     * moment, so it is refused while directors send the host new ones (weighted) and otherwise
     * runs in the retire wave, after the directors drained it (and withdrew it, if it leaves).
     */
    pool: z.enum(POOL_STANDINGS).optional(),
    /**
     * Files the service reads only when it starts, such as its configuration. One that changed
     * since lvsprov last started the service, or changes earlier in this run, restarts it.
     */
    restart_on: z.array(absolutePath).min(1).optional(),
    /**
     * The package that ships the service's unit or init script: where an earlier task of the run
     * installs it, the service appears only then, and is restarted once it is there.
     */
    package: packageName.optional(),
    /**
     * Commands (argv, no shell) run around every start and restart, not around stops: `before`
     * right before it, `after` once the service runs, in order, each failing the start. Where
     * systemd runs the service they go into a drop-in of its unit, so that systemd runs them around
     * every start (a crash its unit restarts, boot, an operator's restart); elsewhere lvsprov runs
     * them around the starts it makes. A store that starts empty keeps its clients out with them
     * until it holds what its peers hold. `timeout_s`: how long a start may take, its commands
     * included (systemd's TimeoutStartSec; its default, 90 s, would cut a long copy short).
     */
    around_start: z
      .object({
        before: z.array(hookArgv).default([]),
        after: z.array(hookArgv).default([]),
        timeout_s: z.number().int().min(1).max(86_400).optional(),
      })
      .strict()
      .optional(),
    /**
     * Hosts whose services name the same turn start and restart them one host after another within
     * a wave, never two at once (Change.turn): a store that copies its data from its peers as it
     * starts needs them running and full.
     */
    one_at_a_time: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a turn name (a-z 0-9 -)').optional(),
    /**
     * `balance`: its starts and restarts run in the balance wave, once every host of the run made its
     * prepare changes, rather than in prepare. A store its clients find through their own settings
     * starts once they all name it (until then it refuses them, and they use the other stores) and
     * once its peers let it in to copy from them.
     */
    wave: z.literal('balance').optional(),
  })
  .strict()
  .refine((spec) => spec.wave === undefined || spec.pool === undefined, {
    message: 'wave and pool do not go together: a pool daemon restarts in retire, after the directors drained it',
    path: ['wave'],
  });

export type ServiceSpec = z.output<typeof serviceSchema>;

export type ServiceManager = 'systemd' | 'sysv' | 'pidfile';

/**
 * The arguments a running pidfile daemon was started with: as lvsprov recorded them when it
 * started it (its argv as one shell-quoted line), or, for a daemon started otherwise, its
 * /proc/PID/cmdline as a shell's `read` gives it: the words run together, the NULs between them
 * dropped.
 */
export type DaemonArguments = { readonly recorded: string } | { readonly runTogether: string };

export interface ServiceFacts {
  /** null when nothing on the host can run this service. */
  readonly manager: ServiceManager | null;
  readonly running: boolean;
  /** Starts at boot; null where that cannot be managed (pidfile daemons, static systemd units). */
  readonly enabled: boolean | null;
  /** sysvinit: the tool that links scripts into runlevels. */
  readonly enabler: 'update-rc.d' | 'chkconfig' | null;
  /** systemd knows no unit of this name (and no exec was given to fall back on). */
  readonly missing: boolean;
  /** A running pidfile daemon's arguments; absent where they could not be read. */
  readonly arguments?: DaemonArguments;
  /**
   * With restart_on: the files changed since lvsprov last started the service (`-` for all of
   * them when it never did, so that a service the package started with its defaults is restarted).
   */
  readonly stale?: readonly string[];
  /** systemd: lvsprov's drop-in for the unit's around_start commands, as the host has it. */
  readonly dropIn?: FileState;
}

export const pidfilePath = (name: string): string => `/run/lvsprov-${name}.pid`;

/** Beside the pidfile: the argv lvsprov started the daemon with, one shell-quoted line. */
export const argumentsRecordPath = (name: string): string => `/run/lvsprov-${name}.argv`;

/**
 * Touched whenever lvsprov starts or restarts a service with restart_on: a file newer than this
 * was changed after the service read it. Kept on disk, not in /run, so that the start at boot,
 * which reads the current files, is not taken for one that read older ones.
 */
export const startRecordPath = (name: string): string => `/var/lib/lvsprov/service-${name}.started`;

const NEVER_STARTED = '-';

function touchStartRecord(name: string): string {
  return `{ [ -d /var/lib/lvsprov ] || mkdir -p /var/lib/lvsprov; } && : > ${quote(startRecordPath(name))}`;
}

/** The argv as the record holds it: shell words, so arguments that hold spaces stay apart. */
const recordedArguments = (exec: readonly string[]): string => command(...exec);

// `is-enabled` answers that are not a yes/no the planner could flip: static units have no
// [Install] section, generated and transient ones are not backed by a unit file to link.
const UNMANAGEABLE_ENABLEMENT = new Set(['static', 'indirect', 'generated', 'transient', 'alias']);
const ENABLED = new Set(['enabled', 'enabled-runtime']);
// `activating`/`reloading` are on their way up; starting again would only queue a second job.
const RUNNING = new Set(['active', 'activating', 'reloading']);

function pidfileCommands(spec: ServiceSpec, start: boolean): string[] {
  if (spec.exec === undefined) return [];
  const [program, ...args] = spec.exec;
  const pidfile = pidfilePath(spec.name);
  if (!start) return [stopDaemonCommand(spec.name, program), command('rm', '-f', '--', argumentsRecordPath(spec.name))];
  // With --background the pidfile names the forked child before it has exec'd the daemon, so a
  // status read right after start can still say "not running". Wait up to 5 s for the daemon to
  // show, then give it 0.1 s more and look again, so that a daemon which dies at once (port taken,
  // a bad config) fails the apply instead of being seen in the moment between its exec and its
  // exit. The waits double from 0.1 s: each is a `sleep` process, and a host slow enough to need
  // the whole wait (a thousand of them on two cores) should not start fifty.
  //
  // --no-close: before its exec, start-stop-daemon closes every descriptor number the open-files
  // limit allows, one call each (20,000 calls where that limit is 20,000, a million in a container
  // that allows that many): 14 ms of CPU at 20,000 on a quiet host, the costliest program of a
  // first apply under load. The script's shell holds only stdin, stdout and stderr (sshd and sudo
  // close the rest; the shell marks its own close-on-exec), and those three go to /dev/null here
  // as start-stop-daemon would have put them. Its own complaints go there too, so a failed start
  // says what failed itself.
  const running = daemonRunning(spec.name, program);
  const daemon = command('start-stop-daemon', '--start', '--quiet', '--background', '--no-close', '--make-pidfile', '--pidfile', pidfile, '--exec', program, '--', ...args);
  return [
    `${daemon} </dev/null >/dev/null 2>&1 || { s=$?; printf '%s\\n' ${quote(`service ${spec.name}: start-stop-daemon could not start ${program}`)}" (exit $s)" >&2; exit "$s"; }`,
    `for w in 0.1 0.2 0.4 0.8 1.6 2; do ${running} && break; sleep "$w"; done`,
    'sleep 0.1',
    `${running} || { printf '%s\\n' ${quote(`service ${spec.name} did not stay running`)} >&2; false; }`,
    // One short write by the shell's printf, not a temp file and a rename: the record only says
    // whether the running daemon has the declared arguments, and a torn one would only read as
    // different (one restart more). The host lock keeps two runs from writing it at once.
    `printf '%s\\n' ${quote(recordedArguments(spec.exec))} > ${quote(argumentsRecordPath(spec.name))}`,
  ];
}

/** What starts, stops or restarts the service under its manager. */
function managerCommands(spec: ServiceSpec, manager: ServiceManager, verb: 'start' | 'stop' | 'restart'): string[] {
  if (manager === 'pidfile') {
    if (verb === 'stop') return pidfileCommands(spec, false);
    const stop = verb === 'restart' && spec.exec !== undefined ? [stopDaemonCommand(spec.name, spec.exec[0])] : [];
    return aroundStart(spec, [...stop, ...pidfileCommands(spec, true)]);
  }
  if (manager === 'systemd') {
    const run = command('systemctl', verb, spec.name);
    // systemd runs the around_start commands itself, from the unit's drop-in.
    return verb === 'stop' ? [run] : [run, ...startRecord(spec)];
  }
  const run = command(`/etc/init.d/${spec.name}`, verb);
  return verb === 'stop' ? [run] : aroundStart(spec, [run]);
}

/**
 * A start's or restart's commands between the spec's `around_start` commands, then, with
 * restart_on, the touch of its start record: last, so that a start whose `after` failed (a store
 * that could not copy its data) counts as not made with the files, and the next apply starts it again.
 */
function aroundStart(spec: ServiceSpec, starting: readonly string[]): string[] {
  const hooks = spec.around_start;
  return [
    ...(hooks?.before ?? []).map((words) => command(...words)),
    ...starting,
    ...(hooks?.after ?? []).map((words) => command(...words)),
    ...startRecord(spec),
  ];
}

const startRecord = (spec: ServiceSpec): string[] => (spec.restart_on !== undefined ? [touchStartRecord(spec.name)] : []);

/**
 * systemd: the drop-in that holds the around_start commands, written (or, with none declared,
 * removed) before any start the plan makes, so that start runs them already. A change of it
 * needs no restart: the commands run around starts, and the running daemon is not one.
 */
function dropInChange(spec: ServiceSpec, facts: ServiceFacts): Change | undefined {
  const path = dropInPath(spec.name);
  const present = facts.dropIn ?? ABSENT_FILE;
  const reload = ['systemctl daemon-reload'];
  if (spec.around_start === undefined) return isOurDropIn(present) ? removeFileChange(path, present, reload) : undefined;
  return writeFileChange(path, present, dropInContent(spec.name, spec.around_start), '644', reload);
}

/** systemd: the drop-in as dropInChange leaves it (written, removed, or someone else's left alone). */
function dropInAfter(spec: ServiceSpec, facts: ServiceFacts): Pick<ServiceFacts, 'dropIn'> {
  if (facts.manager !== 'systemd') return {};
  if (spec.around_start !== undefined) return { dropIn: { exists: true, content: dropInContent(spec.name, spec.around_start), mode: '644' } };
  return isOurDropIn(facts.dropIn ?? ABSENT_FILE) ? { dropIn: ABSENT_FILE } : {};
}

/** What a start or restart of this spec's service carries for the engine: its turn and its wave, if it names them. */
const startSchedule = (spec: ServiceSpec): Pick<Change, 'turn' | 'phase'> => ({
  ...(spec.one_at_a_time !== undefined ? { turn: spec.one_at_a_time } : {}),
  ...waveOf(spec),
});

/** The wave a start or restart runs in, where the spec names one (prepare otherwise). */
const waveOf = (spec: ServiceSpec): Pick<Change, 'phase'> => (spec.wave !== undefined ? { phase: spec.wave } : {});

function stopDaemonCommand(name: string, program: string): string {
  return command('start-stop-daemon', '--stop', '--oknodo', '--quiet', '--retry', 'TERM/5/KILL/5', '--remove-pidfile', '--pidfile', pidfilePath(name), '--exec', program);
}

/**
 * What `start-stop-daemon --status --pidfile PIDFILE --exec PROGRAM` answers with 0, in the
 * shell's builtins (every read's probe asks it, the wait above up to seven times): the pidfile
 * names a process whose executable is PROGRAM, the same file by device and inode, as
 * start-stop-daemon compares them.
 */
function daemonRunning(name: string, program: string): string {
  return `{ read -r p < ${quote(pidfilePath(name))} && [ /proc/"$p"/exe -ef ${quote(program)} ]; } 2>/dev/null`;
}

/**
 * A running pidfile daemon whose arguments are not the declared ones is restarted (a changed port
 * or web root would otherwise never reach it). A daemon that carries a pool's traffic refuses new
 * connections while it restarts: that is refused outright while directors send the host new
 * connections, and waits for the retire wave otherwise (by then the directors drained a server
 * they keep at weight 0, and drained and withdrew one that leaves: engine/wave-plan.ts).
 */
function restartForArguments(spec: ServiceSpec, exec: readonly [string, ...string[]], facts: ServiceFacts, host: string): Omit<Change, 'resource'> | undefined {
  const running = facts.arguments;
  if (running === undefined) return undefined;
  const declared = recordedArguments(exec);
  const same = 'recorded' in running ? running.recorded === declared : running.runTogether === exec.join('');
  if (same) return undefined;
  const before = 'recorded' in running ? running.recorded : `${running.runTogether} (its command line, the words run together)`;
  refuseRestartInPool(spec, host, `runs with other arguments than declared (${before} -> ${declared})`);
  return {
    summary: `restart ${spec.name} (start-stop-daemon): its arguments changed`,
    diff: { kind: 'value', before, after: declared },
    // The start that follows writes the record again.
    commands: managerCommands(spec, 'pidfile', 'restart'),
    ...startSchedule(spec),
    ...(spec.pool !== undefined ? { phase: 'retire' as const, restartsPool: true as const } : {}),
  };
}

/** A restart of a daemon that directors send new connections to would refuse some: the host fails with what to do instead. */
function refuseRestartInPool(spec: ServiceSpec, host: string, why: string): void {
  if (spec.pool !== 'weighted') return;
  throw new Error(
    `service ${spec.name} ${why}, and restarting it would refuse the new connections directors send to ${host} (a real server at a weight above 0). ` +
      `Set ${host}'s weight to 0 in the services that list it and apply (the directors drain it, then ${spec.name} restarts), then put the weight back`,
  );
}

/** What the probe's lines say of the manager that runs the service, and of its state there. */
function managerFacts(fields: ReadonlyMap<string, string>, daemonArguments: DaemonArguments | undefined, spec: ServiceSpec): ServiceFacts {
  const daemon = fields.get('P');
  const pidfile: ServiceFacts = { manager: 'pidfile', running: daemon === '0', enabled: null, enabler: null, missing: false, ...(daemon === '0' && daemonArguments ? { arguments: daemonArguments } : {}) };
  const nothing: ServiceFacts = { manager: null, running: false, enabled: null, enabler: null, missing: false };
  const canDaemonise = spec.exec !== undefined && daemon !== undefined && daemon !== '-';
  switch (fields.get('D')) {
    case 'systemd': {
      // `systemctl show -p` prints `LoadState=loaded`; very old versions print nothing for
      // unknown units, so an empty answer counts as not found too.
      const load = (fields.get('L') ?? '').replace(/^LoadState=/, '');
      const missing = load === '' || load === 'not-found';
      if (missing && canDaemonise) return pidfile;
      const enabledAnswer = fields.get('E') ?? '';
      return {
        manager: 'systemd',
        running: RUNNING.has(fields.get('A') ?? ''),
        enabled: UNMANAGEABLE_ENABLEMENT.has(enabledAnswer) ? null : ENABLED.has(enabledAnswer),
        enabler: null,
        missing,
      };
    }
    case 'sysv': {
      const tool = fields.get('T');
      return {
        manager: 'sysv',
        // LSB: 0 is running; 1-4 are the ways of not running (or of not knowing).
        running: fields.get('S') === '0',
        enabled: fields.get('E') === 'enabled',
        enabler: tool === 'update-rc.d' || tool === 'chkconfig' ? tool : null,
        missing: false,
      };
    }
    default:
      return canDaemonise ? pidfile : nothing;
  }
}

/**
 * A running service whose restart_on files changed since lvsprov last started it (or earlier in
 * this run, or that lvsprov never started: Debian's packages start a service with their own
 * configuration as they install it) is restarted, so that it runs with what the files now say.
 */
function restartForFiles(spec: ServiceSpec, manager: ServiceManager, stale: readonly string[], context: HostContext): Omit<Change, 'resource'> | undefined {
  if (spec.restart_on === undefined) return undefined;
  const changedNow = spec.restart_on.filter((path) => context.changed?.has(`file ${path}`));
  const why =
    changedNow.length > 0 ? `${changedNow.join(', ')} changed` : stale.includes(NEVER_STARTED) ? 'lvsprov never started it' : stale.length > 0 ? `${stale.join(', ')} changed since it started` : undefined;
  if (why === undefined) return undefined;
  refuseRestartInPool(spec, context.host, `must restart to read ${spec.restart_on.join(', ')} (${why})`);
  return {
    summary: `restart ${spec.name}: ${why}`,
    diff: { kind: 'value', before: 'running with what it read at its start', after: `restarted to read ${spec.restart_on.join(', ')}` },
    commands: managerCommands(spec, manager, 'restart'),
    ...startSchedule(spec),
    ...(spec.pool !== undefined ? { phase: 'retire' as const, restartsPool: true as const } : {}),
  };
}

/**
 * A service whose package an earlier task installs: its unit or init script is there only once
 * the package is, so which manager runs it is asked then. Debian's packages enable and start
 * their services as they install them, with their own configuration; the restart reads the
 * files the tasks before it wrote. It is no pool restart whatever the service's `pool`: the
 * daemon did not exist when the host was read, so no connection of the pool is on it to drain,
 * and a real server that joins a pool must run it in prepare, before the directors add it in
 * balance (in retire it would restart under their first connections; refused while weighted, it
 * would fail every new real server's first apply).
 */
function restartAfterInstall(spec: ServiceSpec, pkg: string, manager: ServiceManager | null): Omit<Change, 'resource'> {
  return {
    summary: `restart ${spec.name} after installing ${pkg}`,
    diff: { kind: 'value', before: '(not installed)', after: 'running' },
    // No turn: the service held nothing before its package came, so its restart loses nothing,
    // and a store restarting meanwhile finds it fenced and copies from the others. A first apply
    // of a whole cluster so installs every store at once.
    // A host that runs systemd says so whether the unit is there yet or not; one that does not
    // gets the package's init script.
    commands: managerCommands(spec, manager === 'systemd' ? 'systemd' : 'sysv', 'restart'),
    // In the wave the spec names, if any: a store waits for its clients and peers there too.
    ...waveOf(spec),
  };
}

function sysvEnableCommands(name: string, enabler: ServiceFacts['enabler'], enable: boolean): string[] {
  if (enabler === 'update-rc.d') {
    return enable ? updateRcDEnableCommands(RUNLEVEL_LINK_DIRS, name) : [command('update-rc.d', name, 'disable')];
  }
  if (enabler === 'chkconfig') {
    return enable ? [command('chkconfig', '--add', name), command('chkconfig', name, 'on')] : [command('chkconfig', name, 'off')];
  }
  return [];
}

export const service: ResourceType<ServiceSpec, ServiceFacts> = {
  name: 'service',
  schema: serviceSchema,

  key: (spec) => `service ${spec.name}`,

  // Exit statuses are caught with `if ...; else s=$?`, so the probe reads the same under `set -e`.
  probe(spec) {
    const n = quote(spec.name);
    const lines = [
      `if [ -d /run/systemd/system ]; then`,
      `  printf 'D systemd\\n'`,
      `  printf 'L %s\\n' "$(systemctl show -p LoadState ${n} 2>/dev/null)"`,
      `  printf 'A %s\\n' "$(systemctl is-active ${n} 2>/dev/null)"`,
      `  printf 'E %s\\n' "$(systemctl is-enabled ${n} 2>/dev/null)"`,
      `  ${readFileSnippet(dropInPath(spec.name))}`,
      `elif [ -f /etc/init.d/${n} ]; then`,
      `  printf 'D sysv\\n'`,
      `  if /etc/init.d/${n} status >/dev/null 2>&1; then s=0; else s=$?; fi; printf 'S %s\\n' "$s"`,
      `  ${startLinkProbe(RUNLEVEL_LINK_DIRS, spec.name)}`,
      `  ${enablerProbe}`,
      `else printf 'D none\\n'; fi`,
    ];
    if (spec.exec !== undefined) {
      // Running is read as the start's wait reads it, without a process; start-stop-daemon is
      // only asked whether it is there, since it alone can start the daemon. 3 is its "not running".
      // Then a running daemon's arguments, with builtins too: lvsprov's record, else its command
      // line (whose NULs the shell's read drops; it ends without a newline, so that read's status is 1).
      // A record older than the pidfile is another daemon's: someone started this one by hand
      // under the same pidfile (lvsprov writes the record after the pidfile), so its command line tells.
      const record = quote(argumentsRecordPath(spec.name));
      lines.push(
        `if command -v start-stop-daemon >/dev/null 2>&1; then`,
        `  if ${daemonRunning(spec.name, spec.exec[0])}; then`,
        `    printf 'P 0\\n'; a=''`,
        `    if [ ! ${record} -ot ${quote(pidfilePath(spec.name))} ] && IFS= read -r a < ${record} 2>/dev/null; then printf 'r %s\\n' "$a"; else IFS= read -r a < /proc/"$p"/cmdline 2>/dev/null; printf 'j %s\\n' "$a"; fi`,
        `  else printf 'P 3\\n'; fi`,
        `else printf 'P-\\n'; fi`,
      );
    }
    if (spec.restart_on !== undefined) {
      // `test -nt` is a builtin: which of the files are newer than the last start's record.
      const record = quote(startRecordPath(spec.name));
      const newer = spec.restart_on.map((path) => `if [ ${quote(path)} -nt ${record} ]; then printf 'W %s\\n' ${quote(path)}; fi`);
      lines.push(`if [ -e ${record} ]; then ${newer.join('; ')}; else printf 'W ${NEVER_STARTED}\\n'; fi`);
    }
    return lines.join('\n');
  },

  parse(output: ProbeOutput, spec): ServiceFacts {
    const fields = new Map<string, string>();
    let daemonArguments: DaemonArguments | undefined;
    const stale: string[] = [];
    let dropInLine: string | undefined;
    for (const line of output.stdout.split('\n')) {
      if (line === 'P-') fields.set('P', '-');
      else if (line.startsWith('F')) dropInLine = line;
      else if (line.startsWith('W ')) stale.push(line.slice(2));
      else if (line.startsWith('r ')) daemonArguments = { recorded: line.slice(2) };
      else if (line.startsWith('j ')) daemonArguments = { runTogether: line.slice(2) };
      else if (/^[A-Z]( |$)/.test(line)) fields.set(line.charAt(0), line.slice(2).trim());
    }
    const managed = managerFacts(fields, daemonArguments, spec);
    const facts = managed.manager === 'systemd' ? { ...managed, dropIn: parseFileLine(dropInLine) } : managed;
    return spec.restart_on !== undefined ? { ...facts, stale } : facts;
  },


  plan(spec, facts, context) {
    const resource = `service ${spec.name}`;
    const dropIn = facts.manager === 'systemd' ? dropInChange(spec, facts) : undefined;
    const hooks = dropIn ? [dropIn] : [];
    if ((facts.manager === null || facts.missing) && spec.package !== undefined && context.installing?.has(spec.package)) {
      return facts.running || spec.state !== 'started' ? hooks : [...hooks, { resource, ...restartAfterInstall(spec, spec.package, facts.manager) }];
    }
    if (facts.manager === null) {
      const why = spec.exec === undefined ? 'no systemd, no /etc/init.d script and no exec given' : 'start-stop-daemon is not installed';
      throw new Error(`cannot manage service ${spec.name} on ${context.host}: ${why}`);
    }
    if (facts.missing) throw new Error(`cannot manage service ${spec.name} on ${context.host}: systemd has no such unit`);
    const changes: Change[] = [...hooks];
    // Enablement first, so that a start which fails still leaves the boot configuration right.
    if (facts.enabled !== null && facts.enabled !== spec.enabled) {
      const verb = spec.enabled ? 'enable' : 'disable';
      const commands = facts.manager === 'systemd' ? [command('systemctl', verb, spec.name)] : sysvEnableCommands(spec.name, facts.enabler, spec.enabled);
      if (commands.length === 0) throw new Error(`cannot ${verb} service ${spec.name} on ${context.host}: neither update-rc.d nor chkconfig found`);
      changes.push({ resource, summary: `${verb} ${spec.name} at boot`, diff: { kind: 'value', before: verb === 'enable' ? 'disabled' : 'enabled', after: `${verb}d` }, commands });
    }
    const start = spec.state === 'started';
    if (facts.running !== start) {
      const verb = start ? 'start' : 'stop';
      const via = facts.manager === 'pidfile' ? ' (start-stop-daemon)' : '';
      changes.push({
        resource,
        summary: `${verb} ${spec.name}${via}`,
        diff: { kind: 'value', before: start ? 'stopped' : 'running', after: start ? 'running' : 'stopped' },
        commands: managerCommands(spec, facts.manager, verb),
        ...(start ? startSchedule(spec) : {}),
      });
    } else if (start) {
      const restart =
        (facts.manager === 'pidfile' && spec.exec !== undefined ? restartForArguments(spec, spec.exec, facts, context.host) : undefined) ??
        restartForFiles(spec, facts.manager, facts.stale ?? [], context);
      if (restart) changes.push({ resource, ...restart });
    }
    return changes;
  },

  after(spec, facts) {
    const enabled = facts.enabled === null ? null : spec.enabled;
    const running = spec.state === 'started';
    const started = running && facts.manager === 'pidfile' && spec.exec !== undefined ? { arguments: { recorded: recordedArguments(spec.exec) } } : {};
    const loaded = running && spec.restart_on !== undefined ? { stale: [] } : {};
    return { ...facts, running, enabled, ...started, ...loaded, ...dropInAfter(spec, facts) };
  },

  // Recorded without its pool standing, which only decides when a restart may run: a weight
  // changed in the inventory is not a change of what lvsprov made on the real server. Nor are
  // what runs around a start, whose turn it waits for and the wave it runs in.
  owns: (spec) => {
    const { pool: _standing, restart_on: _restartOn, package: _package, around_start: _around, one_at_a_time: _turn, wave: _wave, ...made } = spec;
    return [{ id: service.key(spec), spec: made }];
  },

  // A service a task started is stopped and, where the host starts services at boot (systemd,
  // sysvinit), disabled if the task enabled it. Pidfile daemons are only stopped. A task that
  // stops a service is not undone, and a service nothing here can run has nothing to stop.
  reset: {
    plan: (spec, facts, context) => (resettableService(spec, facts) ? service.plan(stoppedSpec(spec, facts), facts, context) : []),
    after: (spec, facts) => (resettableService(spec, facts) ? service.after(stoppedSpec(spec, facts), facts) : facts),
  },
};

function resettableService(spec: ServiceSpec, facts: ServiceFacts): boolean {
  return spec.state === 'started' && facts.manager !== null && !facts.missing;
}

/** What reset leaves: the service stopped, disabled if the task enabled it, and its drop-in gone. */
function stoppedSpec(spec: ServiceSpec, facts: ServiceFacts): ServiceSpec {
  const { around_start: _around, ...rest } = spec;
  return { ...rest, state: 'stopped', enabled: spec.enabled ? false : facts.enabled ?? false };
}
