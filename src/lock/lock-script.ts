import { SHELL_EXIT_HOOK } from '../shell/exit-hook.js';
import { quote } from '../shell/quote.js';
import type { LockOwner } from './lock-owner.js';

// The host lock in shell, run inside the execs lvsprov already sends: taking it costs no round trip.
//
// The lock is flock(2) on /run/lvsprov/run.lock. The read exec takes it and hands it to a small
// holder process that lives exactly as long as the run's SSH connection (it watches that
// connection's sshd process), so a run that crashes or is killed frees its hosts once its
// connection closes, without any release exec; a run that ends has its shell end the holder as
// the shell exits (releaseAtExitScript). The owner file beside it says who holds the
// lock (control host, pid, start time) and until when: every later exec of the run renews that
// lease, and a waiter may end a holder whose lease ran out (a control host that vanished without
// closing its connection leaves sshd waiting for hours). The lease ends at a time since boot
// (`lease_end`, centiseconds of /proc/uptime), which a shell reads without starting a process and
// a changed wall clock cannot move; an owner line without it (an older lvsprov's `lease`, in
// seconds of the wall clock) is never taken over, only waited for.
//
// Every report is one line `lvsprov-lock NONCE STATE key=value...`, parsed by lock-report.ts.

export const defaultLockDir = '/run/lvsprov';

/** How long a run may go without an exec on a host before a waiting run may take its lock. */
export const defaultLeaseSeconds = 900;

export type LockWait = 'wait-die' | 'wait';

export interface AcquireOptions {
  /**
   * `wait-die`: wait for a younger run, give way at once to an older one (so that two runs that
   * each hold some hosts never wait for each other); `wait`: wait for anyone, for a run holding
   * no other host.
   */
  readonly wait: LockWait;
  readonly timeoutSeconds: number;
  readonly leaseSeconds?: number;
  /** Only tests change it. */
  readonly dir?: string;
  /** Only tests change it (HOLDER_POLL_SECONDS). */
  readonly holderPollSeconds?: number;
}

const holderName = 'lvsprov-lock-holder';

/** The mark, in the lock directory, that this host's tail is GNU's and waits for a process to end (--pid). */
export const TAIL_WAITS_FOR_PID = 'tail-waits-for-pid';

/**
 * How often the lock holder looks for its connection, in seconds: it lets the lock go up to this
 * long after its connection closed or was lost. Nobody waits for that look: a run that wants the
 * lock sees the connection gone and ends the holder itself (no run waits longer than its own
 * next try). Each look wakes the holder, and a run holds one per host for as long as it runs:
 * 500 holders on the lab's 2-core VM cost 25% of a core at 0.2 s, 9% at 1 s, and a 1000-host
 * first apply keeps a thousand of them for five minutes.
 */
export const HOLDER_POLL_SECONDS = 5;

/**
 * Shell functions every lock snippet needs; `d` is the lock directory. Shell builtins only: every
 * process started here is started on every host of every run (a thousand hosts, a thousand times).
 */
function common(nonce: string, dir: string): string[] {
  return [
    `lvsprov_d=${quote(dir)}`,
    // Centiseconds since boot, into lvsprov_now: a clock that a changed wall clock cannot move.
    // (The fraction always has two digits; a leading 1 keeps "05" from reading as octal.)
    'lvsprov_cs() { read lvsprov_up lvsprov_rest </proc/uptime; lvsprov_now=$(( ${lvsprov_up%.*} * 100 + 1${lvsprov_up#*.} - 100 )); }',
    `lvsprov_say() { printf '%s\\n' "lvsprov-lock ${nonce} $*"; }`,
    // One field (key=value word) of the owner line into lvsprov_value, or empty; lvsprov_number
    // keeps it only when it is all digits. Functions that set a variable, not $(...): each
    // command substitution would start a process.
    'lvsprov_field() { lvsprov_value=; lvsprov_rest=" $lvsprov_info "; case $lvsprov_rest in *" $1="*) lvsprov_rest=${lvsprov_rest#*" $1="}; lvsprov_value=${lvsprov_rest%% *} ;; esac; }',
    'lvsprov_number() { lvsprov_field "$1"; case $lvsprov_value in ""|*[!0-9]*) lvsprov_value= ;; esac; }',
    // The owner file's first line, or empty.
    'lvsprov_owner() { lvsprov_info=; { read -r lvsprov_info <"$lvsprov_d/run.owner"; } 2>/dev/null; }',
    'lvsprov_owner',
  ];
}

/**
 * A `case` pattern for the command line (as a shell's `read` gives it: the NULs between the
 * arguments dropped) of a holder of this lock for connection `conn`: GNU tail, or the shell loop.
 */
function holderCommandLines(conn: string): string {
  return `tail*"--pid=${conn}-f$lvsprov_d/run.lock"|sh-c*"${holderName}$lvsprov_d${conn}"`;
}

/**
 * Shell, after the owner file was read: `lvsprov_holder` is the holder the owner line names when
 * the line is `owner`'s and that process is a holder of the line's connection, else empty. A pid
 * in the file may since have been reused by any process, which is then left alone.
 */
function ownHolderLines(owner: LockOwner): string[] {
  return [
    'lvsprov_number holder; lvsprov_holder=$lvsprov_value; lvsprov_number conn; lvsprov_conn=$lvsprov_value; lvsprov_field run',
    `if [ "$lvsprov_value" = ${quote(owner.run)} ] && [ -n "$lvsprov_holder" ] && [ -n "$lvsprov_conn" ]; then`,
    '  lvsprov_cmd=; { read -r lvsprov_cmd </proc/$lvsprov_holder/cmdline; } 2>/dev/null',
    `  case $lvsprov_cmd in ${holderCommandLines('$lvsprov_conn')}) ;; *) lvsprov_holder= ;; esac`,
    'else',
    '  lvsprov_holder=',
    'fi',
  ];
}

function ownerLine(owner: LockOwner, leaseSeconds: number): string {
  const words = [`run=${owner.run}`, `control=${owner.control}`, `pid=${owner.pid}`, `started=${owner.started}`, `age=${owner.age}`];
  return `lvsprov_cs; printf '%s\\n' ${quote(words.join(' '))}" holder=$lvsprov_holder conn=$lvsprov_conn lease_end=$(( lvsprov_now + ${Math.round(leaseSeconds * 100)} ))"`;
}

/**
 * Take the lock, waiting as `options.wait` says; on anything but success the script ends here
 * (exit 0), so nothing after it reads or changes the host.
 */
export function acquireLockScript(nonce: string, owner: LockOwner, options: AcquireOptions): string {
  const dir = options.dir ?? defaultLockDir;
  const lease = options.leaseSeconds ?? defaultLeaseSeconds;
  const timeout = Math.max(0, Math.round(options.timeoutSeconds * 100));
  const poll = options.holderPollSeconds ?? HOLDER_POLL_SECONDS;
  return [
    ...common(nonce, dir),
    'command -v flock >/dev/null 2>&1 || { lvsprov_say unsupported reason=no-flock; exit 0; }',
    '{ { [ -d "$lvsprov_d" ] || mkdir -p "$lvsprov_d"; } && : >>"$lvsprov_d/run.lock"; } 2>/dev/null || { lvsprov_say unsupported reason=cannot-write; exit 0; }',
    // The process that stands for this run's connection: the nearest sshd ancestor (sudo, its
    // monitor and a login shell may sit between), else the parent.
    'lvsprov_conn=$$ lvsprov_depth=0',
    'while :; do',
    '  lvsprov_comm=; { read -r lvsprov_comm </proc/$lvsprov_conn/comm; } 2>/dev/null',
    '  case $lvsprov_comm in sshd*) break ;; esac',
    // /proc/PID/stat is "pid (comm) state ppid ...": the parent is the second word after the
    // last ") " (a command name may itself hold one).
    '  lvsprov_parent=; { read -r lvsprov_stat </proc/$lvsprov_conn/stat; } 2>/dev/null &&',
    '    { lvsprov_stat=${lvsprov_stat##*") "}; lvsprov_stat=${lvsprov_stat#* }; lvsprov_parent=${lvsprov_stat%% *}; }',
    '  case $lvsprov_parent in *[!0-9]*) lvsprov_parent= ;; esac',
    '  lvsprov_depth=$((lvsprov_depth + 1))',
    '  if [ -z "$lvsprov_parent" ] || [ "$lvsprov_parent" -le 1 ] || [ "$lvsprov_depth" -gt 4 ]; then lvsprov_conn=$PPID; break; fi',
    '  lvsprov_conn=$lvsprov_parent',
    'done',
    'exec 9>>"$lvsprov_d/run.lock"',
    'lvsprov_cs; lvsprov_start=$lvsprov_now lvsprov_waited=0 lvsprov_looked=',
    `lvsprov_deadline=$((lvsprov_start + ${timeout}))`,
    'while ! flock -n 9; do',
    // At least 1: the report says this run waited, however fast the holder went.
    '  lvsprov_cs; lvsprov_waited=$(( lvsprov_now - lvsprov_start + 1 ))',
    // This run is gone (its connection closed while waiting): never take the lock for nobody.
    '  [ -d /proc/$lvsprov_conn ] || exit 0',
    '  lvsprov_owner',
    '  lvsprov_number holder; lvsprov_holder=$lvsprov_value',
    '  lvsprov_number lease_end; lvsprov_lease_end=$lvsprov_value',
    '  lvsprov_number age; lvsprov_age=$lvsprov_value',
    // The holder's connection is gone (the run ended, or was killed): the holder would see it at
    // its next look; end it now. An apply started right after another meets this on every host,
    // so the holder is known by its command line read by the shell (whose read drops the NULs
    // between arguments), not by a process: a tail waiting for that very connection on this lock,
    // or the shell around one. An old connection's pid taken by a new process reads as alive, and
    // the holder is left to its own look.
    '  lvsprov_number conn; lvsprov_stale=',
    '  if [ -n "$lvsprov_holder" ] && [ -n "$lvsprov_value" ] && [ ! -d /proc/$lvsprov_value ]; then',
    '    lvsprov_cmd=; { read -r lvsprov_cmd </proc/$lvsprov_holder/cmdline; } 2>/dev/null',
    `    case $lvsprov_cmd in ${holderCommandLines('$lvsprov_value')}) lvsprov_stale=gone ;; esac`,
    '  elif [ -n "$lvsprov_holder" ] && [ -n "$lvsprov_lease_end" ] && [ "$lvsprov_now" -gt "$lvsprov_lease_end" ] &&',
    `     tr '\\0' ' ' </proc/$lvsprov_holder/cmdline 2>/dev/null | grep -q -F -e ${holderName} -e " -f $lvsprov_d/run.lock "; then`,
    '    lvsprov_stale=expired; lvsprov_say expired $lvsprov_info >&2',
    '  fi',
    '  if [ -n "$lvsprov_stale" ]; then',
    '    kill "$lvsprov_holder" 2>/dev/null',
    // flock -w waits in the kernel for the holder's exit, where a retry would need a `sleep`.
    // A run found already over at the first look was not waited for: its holder only had not
    // looked yet, and the report says nothing of it.
    '    if flock -w 2 9; then',
    '      if [ "$lvsprov_stale$lvsprov_looked" = gone ]; then lvsprov_waited=0; fi',
    '      break',
    '    fi',
    '    continue',
    '  fi',
    `  if [ ${options.wait === 'wait-die' ? 1 : 0} = 1 ] && [ -n "$lvsprov_age" ] && [ "$lvsprov_age" -lt ${owner.age} ]; then`,
    '    lvsprov_say older waited=$(( lvsprov_now - lvsprov_start )) $lvsprov_info; exit 0',
    '  fi',
    '  if [ "$lvsprov_now" -ge "$lvsprov_deadline" ]; then lvsprov_say timeout waited=$(( lvsprov_now - lvsprov_start )) $lvsprov_info; exit 0; fi',
    // A byte now and then: once lvsprov has closed this channel, the write ends the waiter.
    '  printf .; sleep 0.2; lvsprov_looked=1',
    'done',
    'lvsprov_previous=$lvsprov_info',
    // The holder keeps fd 9 (the lock) until the connection's process is gone. It waits in GNU
    // tail --pid, one process that looks every few seconds without starting any: a loop of
    // `sleep` would start a process a look on every host for as long as the run lasts. Whether
    // the host's tail is GNU's is asked once per boot (the mark lives in /run): `tail --version`,
    // one process. Any other tail (busybox's has no --pid) gets that loop instead, in a shell
    // that holds the lock; its `sleep` does not, so a TERM frees the lock at once.
    `if [ ! -e "$lvsprov_d/${TAIL_WAITS_FOR_PID}" ]; then`,
    `  case "$(tail --version </dev/null 2>/dev/null 9>&-)" in *"(GNU coreutils)"*) : >"$lvsprov_d/${TAIL_WAITS_FOR_PID}" ;; esac`,
    'fi',
    `if [ -e "$lvsprov_d/${TAIL_WAITS_FOR_PID}" ]; then`,
    `  tail ---disable-inotify -s ${poll} --pid="$lvsprov_conn" -f "$lvsprov_d/run.lock" </dev/null >/dev/null 2>&1 &`,
    'else',
    // The lock directory and the connection are arguments, so that the shell's command line
    // names both, as tail's does.
    `  sh -c 'while [ -d /proc/$2 ]; do sleep ${poll} 9>&-; done' ${holderName} "$lvsprov_d" "$lvsprov_conn" </dev/null >/dev/null 2>&1 &`,
    'fi',
    'lvsprov_holder=$!',
    `${ownerLine(owner, lease)} >"$lvsprov_d/run.owner.tmp" && mv -f "$lvsprov_d/run.owner.tmp" "$lvsprov_d/run.owner"`,
    // Nothing this run starts later (a daemon) may inherit the lock and outlive the run with it.
    'exec 9>&-',
    'if [ "$lvsprov_waited" -gt 0 ]; then lvsprov_say acquired waited=$lvsprov_waited $lvsprov_previous; else lvsprov_say acquired waited=0; fi',
  ].join('\n');
}

/**
 * The first lines of every later exec of the run: proves the lock is still this run's (and renews
 * its lease), or reports it lost and ends the script before anything runs.
 *
 * A lease renewed less than a minute ago (a quarter of a shorter lease) is left as it is: the
 * rename that renews it is a process, and the apply exec follows the read within seconds. Every
 * exec still leaves at least the lease less that minute before a waiter may take the lock over.
 */
export function holdLockScript(nonce: string, owner: LockOwner, options: { leaseSeconds?: number; dir?: string } = {}): string {
  const lease = options.leaseSeconds ?? defaultLeaseSeconds;
  const renewBelow = Math.round(lease * 100 - Math.min(6000, lease * 25));
  return [
    ...common(nonce, options.dir ?? defaultLockDir),
    'lvsprov_number holder; lvsprov_holder=$lvsprov_value; lvsprov_field run',
    `if [ "$lvsprov_value" = ${quote(owner.run)} ] && [ -n "$lvsprov_holder" ] && [ -d /proc/$lvsprov_holder ]; then`,
    `  lvsprov_number conn; lvsprov_conn=$lvsprov_value; lvsprov_number lease_end; lvsprov_cs`,
    `  if [ -z "$lvsprov_value" ] || [ $(( lvsprov_value - lvsprov_now )) -lt ${renewBelow} ]; then`,
    `    ${ownerLine(owner, lease)} >"$lvsprov_d/run.owner.tmp" && mv -f "$lvsprov_d/run.owner.tmp" "$lvsprov_d/run.owner"`,
    '  fi',
    '  lvsprov_say held',
    'else',
    '  lvsprov_say lost $lvsprov_info; exit 0',
    'fi',
  ].join('\n');
}

/**
 * Shell for the read exec after the lock is taken: as the run's shell ends (the run closed its
 * input, done with the host), an EXIT trap ends this run's holder, known by its command line,
 * and reaps it, so that a run started right after this one finds the lock free, where it would
 * otherwise wait up to HOLDER_POLL_SECONDS for the holder's look or end the holder itself (an
 * `flock` more on every host). A subshell does not run it, only the shell the run's scripts
 * share; one that ends early (a script's `exit`, after which no script of the run holds the lock
 * without a new read) gives the lock up as well. Builtins only, on every host of every run.
 */
export function releaseAtExitScript(owner: LockOwner): string {
  return [
    'lvsprov_release_at_exit() {',
    '  lvsprov_owner',
    ...ownHolderLines(owner).map((line) => `  ${line}`),
    '  if [ -n "$lvsprov_holder" ]; then kill "$lvsprov_holder" 2>/dev/null && wait "$lvsprov_holder" 2>/dev/null; fi',
    '}',
    `${SHELL_EXIT_HOOK}=lvsprov_release_at_exit`,
    `trap "$${SHELL_EXIT_HOOK}" EXIT`,
  ].join('\n');
}

/** Give the lock up now (a younger run making way for an older one); the connection stays open. */
export function releaseLockScript(nonce: string, owner: LockOwner, options: { dir?: string } = {}): string {
  return [
    ...common(nonce, options.dir ?? defaultLockDir),
    ...ownHolderLines(owner),
    'if [ -n "$lvsprov_holder" ]; then',
    '  kill "$lvsprov_holder" 2>/dev/null',
    // Gone once it exited (its lock went with its files): a zombie its new parent has not reaped
    // yet holds nothing.
    '  while { read -r lvsprov_stat </proc/$lvsprov_holder/stat; } 2>/dev/null; do case ${lvsprov_stat##*") "} in Z*) break ;; esac; sleep 0.05; done',
    'fi',
    'lvsprov_say released',
  ].join('\n');
}
