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

/** The same as a script that finds the host's service manager itself, for callers without facts. */
export function daemonScript(verb: 'start' | 'stop'): string {
  return [
    `if [ -d /run/systemd/system ]; then ${daemonCommand('systemd', verb)}`,
    `elif [ -f /etc/init.d/keepalived ]; then ${daemonCommand('sysv', verb)}`,
    `else ${daemonCommand('none', verb)}; fi`,
  ].join('\n');
}
