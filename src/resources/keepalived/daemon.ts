import { command } from '../../shell/quote.js';
import { PIDFILE } from './probe.js';

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
  if (manager === 'systemd') return undefined;
  return [
    'waited=0',
    `while pid=$(cat ${PIDFILE} 2>/dev/null) && [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = keepalived ]; do`,
    `  if [ "$waited" -ge 100 ]; then printf '%s\\n' "keepalived (pid $pid) was still running 10 s after its stop" >&2; exit 1; fi`,
    '  sleep 0.1; waited=$((waited + 1))',
    'done',
  ].join('\n');
}

/** The same as a script that finds the host's service manager itself, for callers without facts. */
export function daemonScript(verb: 'start' | 'stop'): string {
  return [
    `if [ -d /run/systemd/system ]; then ${daemonCommand('systemd', verb)}`,
    `elif [ -f /etc/init.d/keepalived ]; then ${daemonCommand('sysv', verb)}`,
    `else ${daemonCommand('none', verb)}; fi`,
  ].join('\n');
}
