import { pollUntil } from '../../shell/poll.js';
import { command, quote } from '../../shell/quote.js';
import { keepalivedAlive, keepalivedRunsAsPidfileSays, PIDFILE } from './probe.js';

// Starting and stopping keepalived the way the host runs its services: systemd, else Debian's
// init script, else the daemon by its pid file. apply, reset and verify's failover drill all go
// through here, so the drill stops keepalived exactly as an operator's maintenance would.

export type ServiceManager = 'systemd' | 'sysv' | 'none';

export function daemonCommand(manager: ServiceManager, verb: 'start' | 'stop'): string {
  if (manager === 'systemd') return command('systemctl', verb, 'keepalived');
  if (manager === 'sysv') return command('/etc/init.d/keepalived', verb);
  return verb === 'start' ? command('keepalived') : `kill "$(cat ${PIDFILE})"`;
}

/**
 * After a stop: until keepalived has exited, at most 10 s. systemctl stop waits for the daemon;
 * Debian's init script and a kill only signal it, and keepalived then takes a moment to give up
 * its VIPs and exit. A step that says "stopped" must mean stopped, for what runs after it (the
 * config's removal, a check of who holds the VIP). The pid must still be keepalived's: a stale
 * pid file whose number another process took is no reason to wait.
 */
export function untilStopped(manager: ServiceManager): string | undefined {
  return manager === 'systemd' ? undefined : untilExited;
}

const untilExited = [
  'waited=0',
  `while ${keepalivedRunsAsPidfileSays}; do`,
  `  if [ "$waited" -ge 100 ]; then printf '%s\\n' "keepalived (pid $ka_pid) was still running 10 s after its stop" >&2; exit 1; fi`,
  '  sleep 0.1; waited=$((waited + 1))',
  'done',
].join('\n');

/**
 * After a start: until keepalived's pid file names a live process, at most 5 s. Debian's init
 * script exits 0 whatever start-stop-daemon did, "already running" included, so a start is
 * known to have worked only once the daemon is seen.
 */
export const untilRunning = pollUntil(keepalivedAlive, 5);

/** What a start that did not leave keepalived running says, quoted for the shell. */
export const notRunning = quote('keepalived did not stay running (see its log: journalctl -u keepalived or syslog)');

/**
 * The same as a script that finds the host's service manager itself, for callers without facts.
 * A stop returns once keepalived has exited and a start once it runs, whatever the manager: a
 * start sent while the old daemon is still on its way out would otherwise find it "already
 * running" and start nothing.
 */
export function daemonScript(verb: 'start' | 'stop'): string {
  return [
    `if [ -d /run/systemd/system ]; then ${daemonCommand('systemd', verb)}`,
    `elif [ -f /etc/init.d/keepalived ]; then ${daemonCommand('sysv', verb)}`,
    `else ${daemonCommand('none', verb)}; fi`,
    ...(verb === 'stop'
      ? [untilExited]
      : [untilRunning, `${keepalivedAlive} || { printf '%s\\n' ${notRunning} >&2; false; }`]),
  ].join('\n');
}

/** keepalived's pid files: the parent's and its VRRP, checker and BFD children's. */
const PIDFILES = [PIDFILE, '/run/vrrp.pid', '/run/checkers.pid', '/run/bfd.pid'];

/**
 * Stop keepalived and leave in place what it holds: its VIPs on their devices and its virtual
 * servers in the IPVS table, which lvsprov's own address and ipvs tasks hold from now on. Every
 * clean stop (SIGTERM: systemctl stop, the init script, kill) removes them, and keepalived has no
 * signal that exits without that: --dont-release-vrrp and --dont-release-ipvs are read at start
 * only, and a restart with them would release everything on the way down. So the daemon is
 * killed, in the one order that releases nothing: the parent frozen first (SIGSTOP), so it cannot
 * respawn a child; its children (VRRP, checker, BFD) killed; then the parent. The other way round
 * the children see their parent die (PR_SET_PDEATHSIG: SIGTERM) and stop cleanly, releasing it
 * all. Nothing else a SIGKILL skips matters for the configs lvsprov writes (no notify scripts, no
 * VMACs, no firewall rules); its pid files are removed, and under systemd the unit the kill left
 * failed is reset. The VRRP child dies without a priority-0 advert, so a backup still running
 * would take the VIPs three adverts later: the plan runs this once every peer stopped.
 */
export function handOverStop(manager: ServiceManager): string {
  return [
    `ka_alive() { { s=; read -r s < "/proc/$1/stat"; } 2>/dev/null; [ -n "$s" ] || return 1; s="\${s##*) }"; [ "\${s%% *}" != Z ]; }`,
    `ka_gone() { n=0; while ka_alive "$1"; do if [ "$n" -ge 100 ]; then printf '%s\\n' "keepalived (pid $1) still ran 10 s after SIGKILL" >&2; exit 1; fi; sleep 0.1; n=$((n + 1)); done; }`,
    `if ${keepalivedRunsAsPidfileSays}; then`,
    '  p="$ka_pid"',
    '  kill -STOP "$p"',
    `  kids="$(sed -n "s/^\\([0-9]*\\) (.*) [A-Za-z] $p .*/\\1/p" /proc/[0-9]*/stat 2>/dev/null || true)"`,
    '  if [ -n "$kids" ]; then kill -KILL $kids; fi',
    '  for k in $kids; do ka_gone "$k"; done',
    '  kill -KILL "$p"',
    '  ka_gone "$p"',
    'fi',
    `rm -f -- ${PIDFILES.join(' ')}`,
    ...(manager === 'systemd' ? ['systemctl reset-failed keepalived 2>/dev/null || true'] : []),
  ].join('\n');
}
