import { quote } from '../shell/quote.js';
import type { LockOwner } from './lock-owner.js';

// The host lock in shell, run inside the execs lvsprov already sends: taking it costs no round trip.
//
// The lock is flock(2) on /run/lvsprov/run.lock, held by the run's own shell on the host (the
// `sh -s` every exec of the run is sent to) on descriptor 9, from the read that takes it to the
// shell's exit. So it lives exactly as long as the shell that changes the host: a run that ends
// closes the shell's input and the shell's exit frees the lock; a run that crashes or is killed
// has its connection close, and the shell ends with its input (or at its next write) without any
// release exec; and a shell left running commands after its connection went keeps the lock until
// it is done, so no other run changes the host meanwhile. Every script lvsprov sends closes
// descriptor 9 around what it runs (LOCK_FD_CLOSED), so no program, and above all no daemon a
// change starts, inherits the lock and outlives the run with it.
//
// The owner file beside it says who holds the lock (control host, pid, start time, the holding
// shell) and until when: every later exec of the run renews that lease, and a waiter may end a
// holder whose lease ran out (a control host that vanished without closing its connection leaves
// sshd and the shell waiting for hours). The lease ends at a time since boot (`lease_end`,
// centiseconds of /proc/uptime), which a shell reads without starting a process and a changed wall
// clock cannot move; an owner line without it (an older lvsprov's `lease`, in seconds of the wall
// clock) is never taken over, only waited for.
//
// Every report is one line `lvsprov-lock NONCE STATE key=value...`, parsed by lock-report.ts.

export const defaultLockDir = '/run/lvsprov';

/** How long a run may go without an exec on a host before a waiting run may take its lock. */
export const defaultLeaseSeconds = 900;

/**
 * The redirection every script puts on what it runs once the lock may be held: the commands run
 * without descriptor 9, which the shell keeps (in a descriptor closed on exec) and puts back after.
 */
export const LOCK_FD_CLOSED = '9>&-';

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
}

/** The start of every lock report line (lock-report.ts parses it). */
const reportPrefix = (nonce: string): string => `lvsprov-lock ${nonce}`;

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
    `lvsprov_say() { printf '%s\\n' "${reportPrefix(nonce)} $*"; }`,
    // One field (key=value word) of the owner line into lvsprov_value, or empty; lvsprov_number
    // keeps it only when it is all digits. Functions that set a variable, not $(...): each
    // command substitution would start a process.
    'lvsprov_field() { lvsprov_value=; lvsprov_rest=" $lvsprov_info "; case $lvsprov_rest in *" $1="*) lvsprov_rest=${lvsprov_rest#*" $1="}; lvsprov_value=${lvsprov_rest%% *} ;; esac; }',
    'lvsprov_number() { lvsprov_field "$1"; case $lvsprov_value in ""|*[!0-9]*) lvsprov_value= ;; esac; }',
    // The owner file's first line, or empty. The holder writes the file in place (writeOwner): a
    // reader may find it empty, never a line without its newline, which would be dropped too.
    'lvsprov_owner() { lvsprov_info=; { read -r lvsprov_info <"$lvsprov_d/run.owner" || lvsprov_info=; } 2>/dev/null; }',
    'lvsprov_owner',
  ];
}

/**
 * Shell: whether process $1 has the lock file open (on any descriptor: a shell running a script
 * keeps it above 9 meanwhile). A pid in the owner file may since have been reused by any process,
 * which then has no such descriptor and is left alone. Root reads any process's descriptors.
 */
const holdsFunction = 'lvsprov_holds() { for lvsprov_fd in /proc/$1/fd/*; do [ "$lvsprov_fd" -ef "$lvsprov_d/run.lock" ] && return 0; done; return 1; }';

/**
 * Shell that writes the owner line, in place: one write(2) of one line into a file only the
 * holder writes, so a reader sees the old line, an empty file (which it takes for an owner not
 * known yet, and looks again) or the new line. A temp file and a rename would cost every run a
 * process (`mv`) on every host, for a file that lives in /run and is read by lvsprov alone.
 */
function writeOwner(owner: LockOwner, leaseSeconds: number): string {
  const words = [`run=${owner.run}`, `control=${owner.control}`, `pid=${owner.pid}`, `started=${owner.started}`, `age=${owner.age}`, ...(owner.host === undefined ? [] : [`host=${owner.host}`])];
  return `lvsprov_cs; printf '%s\\n' ${quote(words.join(' '))}" holder=$$ conn=$lvsprov_conn lease_end=$(( lvsprov_now + ${Math.round(leaseSeconds * 100)} ))" >"$lvsprov_d/run.owner"`;
}

/**
 * Take the lock, waiting as `options.wait` says; on anything but success the script ends here
 * (exit 0), so nothing after it reads or changes the host. Run in the run's shell itself, not a
 * subshell: the shell keeps the lock from here to its exit.
 */
export function acquireLockScript(nonce: string, owner: LockOwner, options: AcquireOptions): string {
  const dir = options.dir ?? defaultLockDir;
  const lease = options.leaseSeconds ?? defaultLeaseSeconds;
  const timeout = Math.max(0, Math.round(options.timeoutSeconds * 100));
  // This run's owner line under another inventory name: one machine named twice (two of its
  // addresses, or an address and a DNS name), which this run would change over two connections,
  // each planning against what the other changes. Another name of this run only: a run that reads
  // a host again (after giving way to an older run) finds its own name there.
  const self = owner.host === undefined ? undefined : `lvsprov_self() { lvsprov_field run; [ "$lvsprov_value" = ${quote(owner.run)} ] || return 1; lvsprov_field host; [ -n "$lvsprov_value" ] && [ "$lvsprov_value" != ${quote(owner.host)} ]; }`;
  return [
    ...common(nonce, dir),
    holdsFunction,
    ...(self ? [self] : []),
    'command -v flock >/dev/null 2>&1 || { lvsprov_say unsupported reason=no-flock; exit 0; }',
    '{ { [ -d "$lvsprov_d" ] || mkdir -p "$lvsprov_d"; } && : >>"$lvsprov_d/run.lock"; } 2>/dev/null || { lvsprov_say unsupported reason=cannot-write; exit 0; }',
    // The process that stands for this run's connection: the nearest sshd ancestor (sudo, its
    // monitor and a login shell may sit between), else the parent. A run whose connection went
    // while it waited never takes the lock for nobody. The walk starts at the shell's parent,
    // which $PPID names: the shell's own /proc/PID/stat, read a byte per system call with the
    // kernel writing the whole line out again for each, cost every read on every host 0.3 ms.
    'lvsprov_conn=$PPID lvsprov_depth=0',
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
    'lvsprov_cs; lvsprov_start=$lvsprov_now lvsprov_waited=0',
    `lvsprov_deadline=$((lvsprov_start + ${timeout}))`,
    'while ! flock -n 9; do',
    // At least 1: the report says this run waited, however fast the holder went.
    '  lvsprov_cs; lvsprov_waited=$(( lvsprov_now - lvsprov_start + 1 ))',
    '  [ -d /proc/$lvsprov_conn ] || exit 0',
    '  lvsprov_owner',
    '  lvsprov_number holder; lvsprov_holder=$lvsprov_value',
    '  lvsprov_number lease_end; lvsprov_lease_end=$lvsprov_value',
    '  lvsprov_number age; lvsprov_age=$lvsprov_value',
    // Held by this very run under another name: waiting would only end at the timeout, since
    // the run holds every lock it took until its last wave.
    ...(self ? ['  if lvsprov_self; then lvsprov_say self $lvsprov_info; exit 0; fi'] : []),
    // A holder whose lease ran out (its run has sent this host nothing for that long) is ended,
    // if it still holds the lock. A run that merely ended is not waited for long: its shell ends
    // with its input, or at its next write once its connection is gone.
    '  if [ -n "$lvsprov_holder" ] && [ -n "$lvsprov_lease_end" ] && [ "$lvsprov_now" -gt "$lvsprov_lease_end" ] && lvsprov_holds "$lvsprov_holder"; then',
    '    lvsprov_say expired $lvsprov_info >&2',
    '    kill "$lvsprov_holder" 2>/dev/null',
    // flock -w waits in the kernel for the holder's exit, where a retry would need a `sleep`.
    '    flock -w 2 9 && break',
    '    continue',
    '  fi',
    `  if [ ${options.wait === 'wait-die' ? 1 : 0} = 1 ] && [ -n "$lvsprov_age" ] && [ "$lvsprov_age" -lt ${owner.age} ]; then`,
    '    lvsprov_say older waited=$(( lvsprov_now - lvsprov_start )) $lvsprov_info; exit 0',
    '  fi',
    '  if [ "$lvsprov_now" -ge "$lvsprov_deadline" ]; then lvsprov_say timeout waited=$(( lvsprov_now - lvsprov_start )) $lvsprov_info; exit 0; fi',
    // A byte now and then: once lvsprov has closed this channel, the write ends the waiter.
    `  printf .; sleep 0.2 ${LOCK_FD_CLOSED}`,
    'done',
    // Taken at once, or after its holder went: the owner line the last holder left may still say
    // this run read the machine under another name (a host with nothing to change closes its
    // connection, and its lock, right after its read).
    ...(self ? ['lvsprov_owner; if lvsprov_self; then lvsprov_say self $lvsprov_info; exit 0; fi'] : []),
    'lvsprov_previous=$lvsprov_info',
    writeOwner(owner, lease),
    'if [ "$lvsprov_waited" -gt 0 ]; then lvsprov_say acquired waited=$lvsprov_waited $lvsprov_previous; else lvsprov_say acquired waited=0; fi',
  ].join('\n');
}

/**
 * The first lines of every later exec of the run: proves the lock is still this run's (this shell
 * holds it, and the owner file says so) and renews its lease, or reports it lost and ends the
 * script before anything runs.
 *
 * A lease renewed less than a minute ago (a quarter of a shorter lease) is left as it is: the apply
 * exec follows the read within seconds, and a waiter that reads the file while it is rewritten
 * finds it empty. Every exec still leaves at least the lease less that minute before a waiter may
 * take the lock over.
 */
export function holdLockScript(nonce: string, owner: LockOwner, options: { leaseSeconds?: number; dir?: string } = {}): string {
  const lease = options.leaseSeconds ?? defaultLeaseSeconds;
  const renewBelow = Math.round(lease * 100 - Math.min(6000, lease * 25));
  return [
    ...common(nonce, options.dir ?? defaultLockDir),
    'lvsprov_number holder; lvsprov_holder=$lvsprov_value; lvsprov_field run',
    `if [ "$lvsprov_value" = ${quote(owner.run)} ] && [ "$lvsprov_holder" = "$$" ] && [ /proc/$$/fd/9 -ef "$lvsprov_d/run.lock" ]; then`,
    `  lvsprov_number conn; lvsprov_conn=$lvsprov_value; lvsprov_number lease_end; lvsprov_cs`,
    `  if [ -z "$lvsprov_value" ] || [ $(( lvsprov_value - lvsprov_now )) -lt ${renewBelow} ]; then`,
    `    ${writeOwner(owner, lease)}`,
    '  fi',
    '  lvsprov_say held',
    'else',
    '  lvsprov_say lost $lvsprov_info; exit 0',
    'fi',
  ].join('\n');
}

/** Give the lock up now (a younger run making way for an older one); the connection and its shell stay. */
export function releaseLockScript(nonce: string): string {
  return [`exec 9>&-`, `printf '%s\\n' ${quote(`${reportPrefix(nonce)} released`)}`].join('\n');
}
